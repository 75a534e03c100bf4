import { createHash } from "node:crypto";
import {
	type Attribute,
	type CutCrash,
	cutRecords,
	flushHeld,
	type LogStream,
	type StreamOrigin,
} from "../otlp/index.js";
import type { NewCrash, Store } from "../store/index.js";
import type { ServerLimits } from "./_app.js";
import { isAttributeName } from "./_body.js";
import { ApiError } from "./_errors.js";
import type { PreparePool } from "./_prepare-pool.js";

/** A crash's key from its stream, the time of its first record and its text: alike on a retry. */
function idempotencyKey(stream: string, crash: CutCrash): string {
	const hash = createHash("sha256").update(`${stream}\0${crash.time}\0${crash.text}`);
	return `otlp:${hash.digest("hex").slice(0, 40)}`;
}

/** When a log stream counts as quiet, and how often quiet streams are looked for. */
export interface LogStreamOptions {
	/** ms without a record after which a stream's open report is cut out as it is. */
	readonly quiet: number;
	/** ms between looks for quiet streams. */
	readonly sweepEvery: number;
}

/** The timing `gocrash serve` uses unless told otherwise. */
export const DEFAULT_LOG_STREAM_OPTIONS: LogStreamOptions = { quiet: 30_000, sweepEvery: 5_000 };

/** Times a stream's tail is read and written again when other servers keep writing it first. */
const ATTEMPTS = 10;
/** Quiet tails ended per look, in one pass each. */
const SWEEP_PAGE = 100;

interface Logger {
	warn(object: object, message: string): void;
}

/**
 * Log streams whose unfinished ends live in the store: each batch of a stream's records is
 * written after the tail it read, and the tail with the crashes cut from it is written back
 * compare-and-swap, so that servers sharing a database never interleave one stream. Every crash
 * goes through the crashes API's preparation and keeps an idempotency key from its stream, time
 * and text.
 */
export class LogStreams {
	readonly #store: Store;
	readonly #prepare: PreparePool;
	readonly #limits: ServerLimits;
	readonly #now: () => number;
	readonly #log: Logger;
	readonly #options: LogStreamOptions;
	/** One write at a time per stream in this process, so that its own requests do not collide. */
	readonly #busy = new Map<string, Promise<unknown>>();
	#timer: NodeJS.Timeout | null = null;
	#sweeping: Promise<unknown> | null = null;

	constructor(
		store: Store,
		prepare: PreparePool,
		limits: ServerLimits,
		now: () => number,
		log: Logger,
		options: Partial<LogStreamOptions> = {},
	) {
		this.#store = store;
		this.#prepare = prepare;
		this.#limits = limits;
		this.#now = now;
		this.#log = log;
		this.#options = { ...DEFAULT_LOG_STREAM_OPTIONS, ...options };
	}

	/**
	 * Writes a request's batches of records, one per stream, in one transaction; resolves once
	 * every stream's tail and the crashes its batch completed are stored.
	 */
	write(streams: readonly LogStream[]): Promise<void> {
		return this.#serially(
			streams.map((s) => s.key),
			async () => {
				let pending = streams;
				for (let attempt = 0; attempt < ATTEMPTS && pending.length > 0; attempt++) {
					const tails = await this.#store.streams.getTails(pending.map((s) => s.key));
					const cuts = pending.flatMap((stream) => {
						const tail = tails.get(stream.key) ?? null;
						const cut = cutRecords(tail, stream.records, this.#limits.maxBody);
						return cut.repeated ? [] : [{ stream, tail, cut }];
					});
					const writes = await Promise.all(
						cuts.map(async ({ stream, tail, cut }) => ({
							key: stream.key,
							version: tail?.version ?? null,
							next: { ...cut.next, origin: JSON.stringify(stream.origin), updated: this.#now() },
							crashes: await this.#prepareAll(stream.key, stream.origin, cut.crashes),
						})),
					);
					const results = await this.#store.streams.advance(writes);
					pending = cuts.filter((_, i) => results[i] === null).map((c) => c.stream);
				}
				if (pending.length > 0)
					throw new ApiError(
						"unavailable",
						`log stream ${pending[0]?.key.slice(0, 200)} is being written by other servers at the same time: send again`,
						{ "retry-after": "1" },
					);
			},
		);
	}

	/** Ends every stream quiet for the quiet period: the report each holds open is stored as it is. */
	async sweep(): Promise<number> {
		let ended = 0;
		for (;;) {
			const tails = await this.#store.streams.idleTails(
				this.#now() - this.#options.quiet,
				SWEEP_PAGE,
			);
			ended += await this.#serially(
				tails.map((t) => t.key),
				async () => {
					const writes = await Promise.all(
						tails.map(async (tail) => ({
							key: tail.key,
							version: tail.version,
							next: null,
							crashes: await this.#prepareAll(
								tail.key,
								JSON.parse(tail.origin) as StreamOrigin,
								tail.opened === null ? [] : flushHeld(tail, this.#limits.maxBody),
							),
						})),
					);
					// A tail written meanwhile by another request is not quiet any more: it is left.
					return (await this.#store.streams.advance(writes)).filter((r) => r !== null).length;
				},
			);
			if (tails.length < SWEEP_PAGE) return ended;
		}
	}

	/** Looks for quiet streams on a timer. */
	start(): void {
		this.#timer = setInterval(() => {
			if (this.#sweeping !== null) return;
			this.#sweeping = this.sweep()
				.catch((error: unknown) => this.#log.warn({ err: error }, "log streams: sweep failed"))
				.finally(() => {
					this.#sweeping = null;
				});
		}, this.#options.sweepEvery);
		this.#timer.unref();
	}

	/** Stops the timer and waits for a sweep in progress. */
	async stop(): Promise<void> {
		if (this.#timer !== null) clearInterval(this.#timer);
		await this.#sweeping;
	}

	async #prepareAll(
		key: string,
		origin: StreamOrigin,
		crashes: readonly CutCrash[],
	): Promise<NewCrash[]> {
		const prepared: NewCrash[] = [];
		for (const crash of crashes) {
			const attributes = this.#limitAttributes(origin.attributes);
			if (crash.truncated) attributes.push(["truncated", "true"]);
			try {
				prepared.push(
					...(await this.#prepare.prepare({
						text: crash.text,
						kind: "fatal",
						time: crash.time > 0 ? crash.time : this.#now(),
						host: origin.host,
						service: origin.service,
						version: origin.version,
						attributes,
						idempotencyKey: idempotencyKey(key, crash),
					})),
				);
			} catch (error) {
				// The cutter's scanner found a report the parser does not: nothing to store.
				if (!(error instanceof ApiError)) throw error;
				this.#log.warn(
					{ stream: key, code: error.code, reason: error.message },
					"log streams: report not stored",
				);
			}
		}
		return prepared;
	}

	/** The attributes within the crashes API's limits: values cut, bad names and extras left out. */
	#limitAttributes(attributes: readonly Attribute[]): [string, string][] {
		const { maxAttributes, maxAttributeValue } = this.#limits;
		return attributes
			.filter(([name]) => isAttributeName(name, this.#limits))
			.slice(0, maxAttributes - 1)
			.map(([name, value]) => [name, value.slice(0, maxAttributeValue)]);
	}

	/** Runs `work` after the work of this process on any of the streams, and before any later. */
	#serially<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
		const run = Promise.all(keys.map((k) => this.#busy.get(k))).then(work);
		const settled = run.catch(() => undefined);
		for (const k of keys) this.#busy.set(k, settled);
		void settled.then(() => {
			for (const k of keys) if (this.#busy.get(k) === settled) this.#busy.delete(k);
		});
		return run;
	}
}
