interface Waiting<T, R> {
	readonly items: readonly T[];
	readonly resolve: (r: R[]) => void;
	readonly reject: (e: unknown) => void;
}

/**
 * Group commit: the writes that arrive while one is being committed wait and are committed
 * together in the next transaction, so that one sync to disk acknowledges many requests.
 */
export class Batcher<T, R> {
	readonly #write: (items: readonly T[]) => Promise<R[]>;
	readonly #maxItems: number;
	#waiting: Waiting<T, R>[] = [];
	#running = 0;
	#scheduled = false;
	readonly #concurrency: number;

	/** `write` must return one result per item, in order; at most `concurrency` writes run at once. */
	constructor(
		write: (items: readonly T[]) => Promise<R[]>,
		options: { maxItems: number; concurrency: number },
	) {
		this.#write = write;
		this.#maxItems = options.maxItems;
		this.#concurrency = options.concurrency;
	}

	/** Resolves with the items' results once the transaction that holds them has committed. */
	submit(items: readonly T[]): Promise<R[]> {
		return new Promise((resolve, reject) => {
			this.#waiting.push({ items, resolve, reject });
			// A write starts on the next turn of the event loop, so that every submission that
			// arrives in this one joins it: SQLite writes synchronously, so while one runs, the
			// requests that wait cannot even be read.
			if (!this.#scheduled) {
				this.#scheduled = true;
				setImmediate(() => {
					this.#scheduled = false;
					this.#drain();
				});
			}
		});
	}

	#drain(): void {
		while (this.#running < this.#concurrency && this.#waiting.length > 0) {
			const batch: Waiting<T, R>[] = [];
			let size = 0;
			while (this.#waiting.length > 0) {
				const next = this.#waiting[0] as Waiting<T, R>;
				if (batch.length > 0 && size + next.items.length > this.#maxItems) break;
				batch.push(next);
				size += next.items.length;
				this.#waiting.shift();
			}
			this.#running++;
			this.#write(batch.flatMap((b) => b.items))
				.then(
					(results) => {
						let at = 0;
						for (const b of batch) {
							b.resolve(results.slice(at, at + b.items.length));
							at += b.items.length;
						}
					},
					(error: unknown) => {
						// One bad submission must not fail the others: write each alone.
						if (batch.length === 1) (batch[0] as Waiting<T, R>).reject(error);
						else for (const b of batch) this.#write(b.items).then(b.resolve, b.reject);
					},
				)
				.finally(() => {
					this.#running--;
					this.#drain();
				});
		}
	}
}
