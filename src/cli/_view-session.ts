import {
	type Crash,
	CrashScanner,
	type Goroutine,
	type ParseIssue,
	Utf8Pieces,
} from "../traceback/index.js";
import { firstGoroutineCrashed, GoroutineBuckets, type Similarity } from "../triage/index.js";
import type { BufferedOutput } from "./_buffered.js";
import {
	formatCrashPieces,
	formatHeading,
	formatRace,
	formatSummary,
	SHOWN_ISSUES,
} from "./_parse-view.js";
import type { Style } from "./_style.js";

/**
 * What reading crash text for the grouped view gives, in input order. `tag` is the number of
 * input lines read when it happened, and line numbers count from where the reading started.
 */
export type ViewEvent =
	| {
			type: "crash" | "race";
			tag: number;
			/** `panic`, `fatal`, … for a crash; empty for a race report. */
			kind: string;
			startLine: number;
			endLine: number;
			truncated: boolean;
			/**
			 * Everything below the heading, which needs the report's number, in pieces made as they
			 * are read (bytes are UTF-8); to be read before the handler given the event returns.
			 */
			body: Iterable<string | Uint8Array>;
	  }
	| { type: "issue"; tag: number; issue: ParseIssue };

/** Reads crash text into {@link ViewEvent}s: goroutines bucketed, crashes and races formatted. */
export class ViewSession {
	readonly #scanner: CrashScanner;
	readonly #bytes: Utf8Pieces;

	/**
	 * `sync` is told each line count after which nothing earlier matters (ScanHandlers.sync);
	 * `continued` says the bytes go on from elsewhere (see Utf8Pieces).
	 */
	constructor(
		similarity: Similarity,
		style: Style,
		emit: (event: ViewEvent) => void,
		options: { sync?: (lines: number) => void; continued?: boolean } = {},
	) {
		const { sync, continued = false } = options;
		let current: Crash | null = null;
		let buckets = new GoroutineBuckets(similarity);
		const tag = () => this.#scanner.linesRead;
		this.#scanner = new CrashScanner(
			{
				goroutine(g: Goroutine, crash: Crash) {
					if (current !== crash) {
						current = crash;
						buckets = new GoroutineBuckets(similarity);
					}
					buckets.add(g, crash.goroutineCount === 1 && firstGoroutineCrashed(crash));
				},
				crash(crash) {
					const list = current === crash ? buckets.buckets() : [];
					current = null;
					const { kind, startLine, endLine, truncated } = crash;
					const body = formatCrashPieces(crash, list, style);
					emit({ type: "crash", tag: tag(), kind, startLine, endLine, truncated, body });
				},
				race(race) {
					const { startLine, endLine, truncated } = race;
					const body = [formatRace(race, style)];
					emit({ type: "race", tag: tag(), kind: "", startLine, endLine, truncated, body });
				},
				issue: (issue) => emit({ type: "issue", tag: tag(), issue }),
				...(sync === undefined ? {} : { sync }),
			},
			{ keep: false },
		);
		this.#bytes = new Utf8Pieces((text) => this.#scanner.write(text), { continued });
	}

	/** Number of input lines read so far. */
	get lines(): number {
		return this.#scanner.linesRead;
	}

	write(chunk: Uint8Array): void {
		this.#bytes.write(chunk);
	}

	end(): void {
		this.#bytes.end();
		this.#scanner.end();
	}
}

/** Writes {@link ViewEvent}s as the grouped view: numbered headings, then the closing summary. */
export class ViewOutput {
	readonly #out: BufferedOutput;
	readonly #style: Style;
	#crashes = 0;
	#races = 0;
	readonly #issues: (ParseIssue & { source: string })[] = [];
	#issueCount = 0;

	constructor(out: BufferedOutput, style: Style) {
		this.#out = out;
		this.#style = style;
	}

	/** Writes one event of `source`, whose line numbers count from `base` lines in. */
	add(event: ViewEvent, source: string, base: number): void {
		if (event.type === "issue") {
			if (this.#issueCount++ < SHOWN_ISSUES) {
				this.#issues.push({ source, ...event.issue, line: event.issue.line + base });
			}
			return;
		}
		const title =
			event.type === "crash"
				? `crash ${++this.#crashes} · ${event.kind}`
				: `data race ${++this.#races}`;
		const placed = {
			title,
			source,
			startLine: event.startLine + base,
			endLine: event.endLine + base,
			truncated: event.truncated,
		};
		this.#out.write(formatHeading(placed, this.#style));
		for (const piece of event.body) {
			if (typeof piece === "string") this.#out.write(piece);
			else this.#out.writeBytes(piece);
		}
	}

	/** Writes the closing summary. */
	end(): void {
		this.#out.write(
			formatSummary(this.#crashes, this.#races, this.#issues, this.#issueCount, this.#style),
		);
	}
}
