import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { InputError } from "../_io.js";
import type { SourceReport } from "./_files.js";
import type { Attributes } from "./_origin.js";
import { LogStream, type StreamState } from "./_stream.js";

/** What is saved of the journal: the cursor of the last entry read and what each stream holds. */
export interface JournalState {
	readonly cursor: string | null;
	readonly streams: Readonly<Record<string, StreamState>>;
}

/** How the journal is read. */
export interface JournalOptions {
	/** Only these units (journalctl -u); empty: every entry. */
	readonly units: readonly string[];
	/** A journal directory (journalctl --directory), e.g. a host's mounted /var/log/journal; null: the system's. */
	readonly directory: string | null;
	/** --host, or null to take each entry's _HOSTNAME. */
	readonly host: string | null;
	readonly fallbackHost: string;
	/** --service, or null to take the unit's name. */
	readonly service: string | null;
	readonly attributes: Attributes;
	/** With nothing saved: read the journal from its start (true) or only new entries. */
	readonly fromStart: boolean;
	/** Read to the end and stop (journalctl without --follow). */
	readonly once: boolean;
	readonly now: () => number;
	readonly log: (line: string) => void;
}

/** A stream with nothing open and no entry for this long is forgotten (processes come and go). */
const IDLE_MS = 10 * 60_000;

/** One entry of `journalctl -o json`: fields as strings, or byte arrays when not UTF-8 text. */
type Entry = Readonly<Record<string, unknown>>;

/**
 * Follows the journal through `journalctl --follow -o json`: each process of each unit is its
 * own stream (a crash is one process's output), and the cursor of the last entry taken is saved,
 * so that a restart goes on after it.
 */
export class JournalFollower {
	readonly #options: JournalOptions;
	readonly #streams = new Map<string, LogStream>();
	readonly #saved: Map<string, StreamState>;
	#cursor: string | null;
	/** The cursor this run started at, until the entry it names is seen (or not). */
	#resumed: string | null;
	#entries: Entry[] = [];
	#child: ChildProcess | null = null;
	#ended: Promise<void> = Promise.resolve();
	#failure: string | null = null;

	constructor(options: JournalOptions, saved: JournalState | null) {
		this.#options = options;
		this.#cursor = saved?.cursor ?? null;
		this.#resumed = this.#cursor;
		this.#saved = new Map(Object.entries(saved?.streams ?? {}));
	}

	/** Starts journalctl; its entries are taken at each {@link look}. */
	start(): void {
		const args = ["--output=json", "--no-pager", "--all"];
		if (!this.#options.once) args.push("--follow");
		if (this.#options.directory !== null) args.push(`--directory=${this.#options.directory}`);
		for (const unit of this.#options.units) args.push(`--unit=${unit}`);
		// --cursor and not --after-cursor: with a --unit filter, journalctl 252's --after-cursor
		// skips the first matching entry when the saved one does not match. The saved entry,
		// shown again when it does match, is dropped at the first look.
		if (this.#cursor !== null) args.push(`--cursor=${this.#cursor}`);
		else args.push(this.#options.fromStart ? "--lines=all" : "--lines=0");
		const child = spawn("journalctl", args, { stdio: ["ignore", "pipe", "pipe"] });
		this.#child = child;
		let stderr = "";
		child.stderr.on("data", (d: Buffer) => {
			stderr = (stderr + d.toString()).slice(-2000);
		});
		const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
		lines.on("line", (line) => {
			try {
				const entry = JSON.parse(line) as unknown;
				if (typeof entry === "object" && entry !== null) this.#entries.push(entry as Entry);
			} catch {
				this.#options.log(`journalctl printed a line that is not JSON: ${line.slice(0, 120)}`);
			}
		});
		this.#ended = new Promise((done) => {
			child.on("error", (error) => {
				this.#failure =
					(error as NodeJS.ErrnoException).code === "ENOENT"
						? "journalctl not found: --journal needs systemd's journalctl"
						: `journalctl: ${error.message}`;
				done();
			});
			child.on("close", (code) => {
				if (code !== 0 && this.#failure === null)
					this.#failure = `journalctl exited with ${code}: ${stderr.trim().split("\n").at(-1) ?? ""}`;
				done();
			});
		});
		this.#options.log(`reading the journal: journalctl ${args.join(" ")}`);
	}

	/** Resolves when journalctl has ended (with --once: read the whole journal). */
	get ended(): Promise<void> {
		return this.#ended;
	}

	/** Takes the entries read since the last look; returns the reports they completed. */
	look(quietMs: number): SourceReport[] {
		if (this.#failure !== null) throw new InputError(this.#failure);
		const reports: SourceReport[] = [];
		const entries = this.#entries.splice(0);
		if (this.#resumed !== null && entries.length > 0) {
			if (text(entries[0]?.__CURSOR) === this.#resumed) entries.shift();
			this.#resumed = null;
		}
		for (const entry of entries) {
			const message = text(entry.MESSAGE);
			const unit = text(entry._SYSTEMD_UNIT) ?? text(entry.SYSLOG_IDENTIFIER) ?? "";
			const pid = text(entry._PID) ?? "";
			const cursor = text(entry.__CURSOR);
			if (cursor !== null) this.#cursor = cursor;
			if (message === null) continue;
			const stream = this.#stream(`${unit}\0${pid}`, unit, text(entry._HOSTNAME));
			const micros = Number(text(entry.__REALTIME_TIMESTAMP));
			const time = Number.isFinite(micros) && micros > 0 ? Math.floor(micros / 1000) : null;
			reports.push(...from(unit, stream.write(`${message}\n`, time)));
		}
		const now = this.#options.now();
		for (const [key, stream] of this.#streams) {
			if (stream.open && now - stream.lastData >= quietMs)
				reports.push(...from(key, stream.flush()));
			if (!stream.open && now - stream.lastData >= IDLE_MS) this.#streams.delete(key);
		}
		return reports;
	}

	/** Ends every stream: returns the reports still open. */
	flush(): SourceReport[] {
		return [...this.#streams].flatMap(([key, s]) => from(key, s.flush()));
	}

	/** What to save: the cursor and the streams that hold text. */
	get state(): JournalState {
		// Streams saved by the last run and not seen again yet are kept as they were.
		const streams: Record<string, StreamState> = Object.fromEntries(this.#saved);
		for (const [key, stream] of this.#streams) streams[key] = stream.state;
		return { cursor: this.#cursor, streams };
	}

	/** Stops journalctl. */
	close(): void {
		this.#child?.kill();
	}

	#stream(key: string, unit: string, entryHost: string | null): LogStream {
		let stream = this.#streams.get(key);
		if (stream === undefined) {
			const o = this.#options;
			const attributes: Attributes =
				unit === "" ? o.attributes : [...o.attributes, ["systemd.unit", unit]];
			stream = new LogStream(
				`journal\0${key}`,
				{
					host: o.host ?? entryHost ?? o.fallbackHost,
					service: o.service ?? unit.replace(/\.service$/, ""),
					attributes,
				},
				this.#saved.get(key) ?? null,
				o.now,
			);
			this.#saved.delete(key);
			this.#streams.set(key, stream);
		}
		return stream;
	}
}

/** A journal field as text: journalctl prints fields that are not valid UTF-8 as byte arrays. */
function text(value: unknown): string | null {
	if (typeof value === "string") return value;
	if (Array.isArray(value) && value.every((b) => typeof b === "number"))
		return Buffer.from(value as number[]).toString("utf8");
	return null;
}

function from(key: string, bodies: readonly SourceReport["body"][]): SourceReport[] {
	const unit = key.split("\0")[0] || "journal";
	return bodies.map((body) => ({ from: `the journal (${unit})`, body }));
}
