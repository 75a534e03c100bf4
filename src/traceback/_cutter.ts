import { MAX_LINE_LENGTH } from "./_lines.js";
import { CrashScanner } from "./_scanner.js";

/** One report cut out of a stream: its lines as they came, with some lines before it. */
export interface CutReport {
	readonly text: string;
	/** True when the report is not whole: it stops mid-way (at a flush), or was cut at the size limit. */
	readonly truncated: boolean;
}

/** Options of a {@link ReportCutter}. */
export interface CutterOptions {
	/** Lines before a report sent with it, so that it parses as it did in the stream (default 20). */
	readonly context?: number;
	/** Most characters held for one open report; a longer one is cut there (default 8 MiB). */
	readonly maxChars?: number;
}

/**
 * Cuts complete crashes, goroutine dumps and race reports out of a stream of log text, as soon
 * as each is complete, with the streaming {@link CrashScanner}: lines that go with no report are
 * dropped once the scanner no longer needs them, so memory stays bounded by the open report.
 */
export class ReportCutter {
	readonly #emit: (report: CutReport) => void;
	readonly #context: number;
	readonly #maxChars: number;
	#scanner!: CrashScanner;
	/** Lines read and not yet dropped; `#lines[0]` is input line `#first` of this scanner. */
	#lines: string[] = [];
	#first = 1;
	#chars = 0;
	/** The text after the last newline. */
	#partial = "";
	/** The last line of the last report emitted. */
	#emitted = 0;
	/** True while the open report is ended for being too long. */
	#cutting = false;

	constructor(emit: (report: CutReport) => void, options: CutterOptions = {}) {
		this.#emit = emit;
		this.#context = options.context ?? 20;
		this.#maxChars = options.maxChars ?? 8 * 1024 * 1024;
		this.#restart();
	}

	/** Feeds the next chunk of text; chunk boundaries may fall anywhere, even inside a line. */
	write(chunk: string): void {
		let start = 0;
		for (;;) {
			const newline = chunk.indexOf("\n", start);
			if (newline < 0) break;
			const line = this.#partial + chunk.slice(start, newline);
			this.#partial = "";
			start = newline + 1;
			this.#line(line);
		}
		if (start < chunk.length)
			this.#partial = (this.#partial + chunk.slice(start)).slice(0, MAX_LINE_LENGTH + 1);
	}

	/** True while a report may be open: lines are held that a later line could still complete. */
	get open(): boolean {
		return this.#scanner.openFrom !== null || this.#partial.length > 0;
	}

	/**
	 * The text held: the open report's lines, those before it kept as context, and an unfinished
	 * last line. Writing it into a new cutter resumes the stream where this one is.
	 */
	get held(): string {
		const from = Math.max(this.#emitted + 1, this.#first);
		const lines = this.#lines.slice(from - this.#first);
		return lines.length === 0 ? this.#partial : `${lines.join("\n")}\n${this.#partial}`;
	}

	/**
	 * Ends the stream for now, as after a quiet period: an open report is emitted as it is
	 * (truncated if it stops mid-way), and what comes next is read as a new stream.
	 */
	flush(): void {
		if (this.#partial.length > 0) {
			const last = this.#partial;
			this.#partial = "";
			this.#line(last);
		}
		this.#scanner.end();
		this.#restart();
	}

	#restart(): void {
		this.#scanner = new CrashScanner(
			{
				crash: (crash) => this.#report(crash.startLine, crash.endLine, crash.truncated),
				race: (race) => this.#report(race.startLine, race.endLine, race.truncated),
			},
			{ keep: false },
		);
		this.#lines = [];
		this.#first = 1;
		this.#chars = 0;
		this.#emitted = 0;
	}

	#line(line: string): void {
		const kept = line.length > MAX_LINE_LENGTH ? line.slice(0, MAX_LINE_LENGTH) : line;
		this.#lines.push(kept);
		this.#chars += kept.length + 1;
		this.#scanner.write(`${kept}\n`);
		if (this.#chars <= this.#maxChars) this.#drop();
		else {
			this.#cutting = true;
			this.#scanner.end();
			this.#cutting = false;
			this.#restart();
		}
	}

	#report(startLine: number, endLine: number, truncated: boolean): void {
		const from = Math.max(this.#emitted + 1, this.#first, startLine - this.#context);
		const to = Math.min(endLine, this.#first + this.#lines.length - 1);
		if (to < from) return;
		const text = this.#lines.slice(from - this.#first, to - this.#first + 1).join("\n");
		this.#emitted = to;
		this.#emit({ text, truncated: truncated || this.#cutting });
	}

	/** Drops the lines no report can still use: all but the context before the next one. */
	#drop(): void {
		const next = this.#scanner.linesRead + 1;
		const keepFrom = Math.max(
			this.#emitted + 1,
			Math.min(this.#scanner.openFrom ?? next, next) - this.#context,
		);
		const drop = keepFrom - this.#first;
		// Dropped in batches, so that each line is moved in the array a bounded number of times.
		if (drop <= this.#context) return;
		for (const line of this.#lines.splice(0, drop)) this.#chars -= line.length + 1;
		this.#first = keepFrom;
	}
}
