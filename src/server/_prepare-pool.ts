import { Worker } from "node:worker_threads";
import type { Rule } from "../knowledge/index.js";
import type { NewCrash } from "../store/index.js";
import { ApiError, type ErrorCode } from "./_errors.js";
import { prepareReport, type Report } from "./_ingest.js";

type Answer =
	| { id: number; crashes: NewCrash[] }
	| { id: number; error: { code: ErrorCode; message: string } };

/**
 * Prepares reports (parse, diagnose, sign) on worker threads, or on this thread when there are
 * none: each report goes to the worker with the fewest waiting.
 */
export class PreparePool {
	readonly #workers: { worker: Worker; waiting: Map<number, (a: Answer) => void> }[] = [];
	readonly #rules: readonly Rule[];
	readonly #maxCrashes: number;
	readonly #now: () => number;
	#next = 0;

	constructor(options: {
		rules: readonly Rule[];
		maxCrashes: number;
		now: () => number;
		threads: number;
	}) {
		this.#rules = options.rules;
		this.#maxCrashes = options.maxCrashes;
		this.#now = options.now;
		for (let i = 0; i < options.threads; i++) {
			const worker = new Worker(new URL("./_prepare-worker.js", import.meta.url), {
				workerData: { rules: options.rules, maxCrashes: options.maxCrashes },
			});
			const waiting = new Map<number, (a: Answer) => void>();
			worker.on("message", (answer: Answer) => {
				waiting.get(answer.id)?.(answer);
				waiting.delete(answer.id);
				if (waiting.size === 0) worker.unref();
			});
			worker.on("error", (error) => {
				for (const done of waiting.values())
					done({ id: -1, error: { code: "internal", message: `worker failed: ${error.message}` } });
				waiting.clear();
			});
			worker.unref();
			this.#workers.push({ worker, waiting });
		}
	}

	/** The report's crashes, ready to store; throws the ApiError that refuses it. */
	async prepare(report: Report): Promise<NewCrash[]> {
		if (this.#workers.length === 0)
			return prepareReport(report, {
				rules: this.#rules,
				maxCrashes: this.#maxCrashes,
				now: this.#now,
			});
		const target = this.#workers.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
		const id = this.#next++;
		const answer = await new Promise<Answer>((done) => {
			target.waiting.set(id, done);
			// A worker with work keeps the process alive until it answers; an idle one does not.
			target.worker.ref();
			target.worker.postMessage({ id, report });
		});
		if ("error" in answer) throw new ApiError(answer.error.code, answer.error.message);
		return answer.crashes.map((c) => ({ ...c, raw: new Uint8Array(c.raw) }));
	}

	/** Stops the workers. */
	async close(): Promise<void> {
		await Promise.all(this.#workers.map((w) => w.worker.terminate()));
	}
}
