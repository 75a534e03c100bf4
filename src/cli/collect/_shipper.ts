import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { listSpool, REJECTED, type Spool, type SpoolFile } from "./_spool.js";

/** Where and how reports are sent. */
export interface ShipperOptions {
	/** The service's root URL, without a trailing slash. */
	readonly server: string;
	readonly token: string;
	/** The collector's own spool, told of each report that leaves it. */
	readonly spool: Spool;
	/** Other spool directories to send from: the Go client's. */
	readonly pickups: readonly string[];
	readonly log: (line: string) => void;
	/** How often directories are looked at when nothing told the shipper of new reports. */
	readonly pollMs?: number;
}

/** How long one request may take. */
const REQUEST_TIMEOUT_MS = 10_000;
const FIRST_RETRY_MS = 1000;
const KEEP_REJECTED = 500;
const LAST_RETRY_MS = 60_000;

type Outcome = "sent" | "refused" | "retry";

/**
 * Sends spooled reports to `POST /api/v1/crashes`, oldest first, and deletes each the server
 * took; retries with exponential backoff and jitter while the server cannot be reached or
 * answers 408, 429 or 5xx; moves a report the server refused to `rejected/` with its answer.
 */
export class Shipper {
	readonly #options: ShipperOptions;
	#wake: (() => void) | null = null;
	#failures = 0;
	#sent = 0;
	/** Why the last try failed, for the log. */
	#lastError = "";

	constructor(options: ShipperOptions) {
		this.#options = options;
	}

	/** How many reports the server has taken so far. */
	get sent(): number {
		return this.#sent;
	}

	/** Says that a report was spooled, so that it is sent without waiting for the next look. */
	kick(): void {
		this.#wake?.();
	}

	/** Sends until `signal` aborts: each report as it arrives, retrying while the server is away. */
	async run(signal: AbortSignal): Promise<void> {
		while (!signal.aborted) {
			const delay = await this.#sendAll(signal);
			await this.#pause(delay ?? this.#options.pollMs ?? 2000, signal);
		}
	}

	/** Sends what is spooled now, retrying until it is all sent or `deadline` (ms since the epoch). */
	async drain(deadline: number): Promise<number> {
		const signal = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
		for (;;) {
			const delay = await this.#sendAll(signal);
			if (delay === null) return 0;
			if (signal.aborted || Date.now() + delay > deadline) break;
			await this.#pause(delay, signal);
		}
		return (await this.#waiting()).length;
	}

	/** Sends every spooled report; returns the delay before the next try, or null when none is left. */
	async #sendAll(signal: AbortSignal): Promise<number | null> {
		for (;;) {
			const files = await this.#waiting();
			if (files.length === 0) return null;
			for (const file of files) {
				if (signal.aborted) return 0;
				const outcome = await this.#send(file, signal);
				if (outcome === "retry") return this.#backoff(files.length);
				this.#recovered(files.length);
			}
		}
	}

	async #waiting(): Promise<SpoolFile[]> {
		const dirs = [this.#options.spool.dir, ...this.#options.pickups];
		const all = await Promise.all(dirs.map((dir) => listSpool(dir)));
		return all.flat().sort((a, b) => a.mtime - b.mtime);
	}

	async #send(file: SpoolFile, signal: AbortSignal): Promise<Outcome> {
		let body: { idempotencyKey?: unknown };
		let raw: string;
		try {
			raw = await readFile(file.path, "utf8");
			body = JSON.parse(raw) as { idempotencyKey?: unknown };
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === "ENOENT") return "sent";
			await this.#reject(file, `not a report: ${(error as Error).message}`);
			return "refused";
		}
		const headers: Record<string, string> = {
			authorization: `Bearer ${this.#options.token}`,
			"content-type": "application/json",
		};
		if (typeof body.idempotencyKey === "string") headers["idempotency-key"] = body.idempotencyKey;
		let response: Response;
		let answer: string;
		try {
			response = await fetch(`${this.#options.server}/api/v1/crashes`, {
				method: "POST",
				headers,
				body: raw,
				signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
			});
			answer = await response.text();
		} catch (error) {
			this.#lastError = describeFailure(error);
			return "retry";
		}
		if (response.status === 200 || response.status === 201) {
			await rm(file.path, { force: true });
			this.#options.spool.removed(file.path);
			this.#sent++;
			this.#options.log(`sent ${basename(file.path)}: ${describeStored(answer)}`);
			return "sent";
		}
		if (response.status === 408 || response.status === 429 || response.status >= 500) {
			this.#lastError = `${response.status} ${excerpt(answer)}`;
			return "retry";
		}
		await this.#reject(file, `${response.status} ${excerpt(answer)}`);
		return "refused";
	}

	async #reject(file: SpoolFile, why: string): Promise<void> {
		const dir = join(file.path, "..", REJECTED);
		await mkdir(dir, { recursive: true, mode: 0o700 });
		const target = join(dir, basename(file.path));
		await rename(file.path, target);
		this.#options.spool.removed(file.path);
		await writeFile(`${target}.error`, `${why}\n`);
		// Refused reports are kept for a person to look at, the newest few hundred.
		for (const old of (await listSpool(dir)).slice(0, -KEEP_REJECTED)) {
			await rm(old.path, { force: true });
			await rm(`${old.path}.error`, { force: true });
		}
		this.#options.log(`the server refused ${basename(file.path)} (kept in ${dir}): ${why}`);
	}

	#backoff(waiting: number): number {
		const ceiling = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#failures);
		const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
		if (this.#failures === 0 || ceiling === LAST_RETRY_MS)
			this.#options.log(
				`cannot send to ${this.#options.server} (${this.#lastError}): ${reports(waiting)} in the spool; next try in ${(delay / 1000).toFixed(1)} s`,
			);
		this.#failures++;
		return delay;
	}

	#recovered(waiting: number): void {
		if (this.#failures === 0) return;
		this.#failures = 0;
		this.#options.log(
			`${this.#options.server} takes reports again: sending ${reports(waiting)} from the spool`,
		);
	}

	async #pause(ms: number, signal: AbortSignal): Promise<void> {
		if (signal.aborted) return;
		const woken = new Promise<void>((resolve) => {
			this.#wake = resolve;
		});
		await Promise.race([sleep(ms, undefined, { signal }).catch(() => undefined), woken]);
		this.#wake = null;
	}
}

function describeStored(answer: string): string {
	try {
		const { crashes } = JSON.parse(answer) as {
			crashes: { id: string; bucket: string; duplicate?: boolean }[];
		};
		return crashes
			.map(
				(c) =>
					`crash ${c.id} in bucket ${c.bucket}${c.duplicate === true ? " (already stored)" : ""}`,
			)
			.join(", ");
	} catch {
		return excerpt(answer);
	}
}

/** A fetch failure as its cause says it: `ECONNREFUSED`, `timed out`. */
export function describeFailure(error: unknown): string {
	if (error instanceof Error && error.name === "TimeoutError") return "timed out";
	const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
	if (typeof cause?.code === "string") return cause.code;
	if (typeof cause?.message === "string") return cause.message;
	return error instanceof Error ? error.message : String(error);
}

function excerpt(text: string): string {
	const line = text.replace(/\s+/g, " ").trim();
	return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** `1 report`, `2 reports`. */
export function reports(n: number): string {
	return `${n} report${n === 1 ? "" : "s"}`;
}
