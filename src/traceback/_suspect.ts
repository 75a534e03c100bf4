import {
	classifyLine,
	findEvidenceStart,
	findReportStart,
	isEvidence,
	isOpening,
	type Token,
} from "./_classify.js";
import { stripLogPrefix } from "./_prefix.js";
import { PrefixShape } from "./_shape.js";

// Something else may stand on a line before the runtime's report: a shell prompt, a terminal's
// echo of `^\`, a benchmark name that `go test -bench` printed without its newline, a log
// message, or a prefix that every line of the report carries. Such a line is a suspect: the
// lines after it decide whether a report starts there, or the line merely mentions one.

/** Most lines held while deciding whether a report that began after other text is one. */
const MAX_SUSPECT_LINES = 100;

/**
 * What a line after a suspect decides: hold on; a report; text (the held lines read again,
 * looked at for other suspects); or plain text (the held lines read again as they are).
 */
export type Verdict = "hold" | "report" | "text" | "plain";

/** A line on which a report seems to start after other text, and the lines held after it. */
export class Suspect {
	/** Line number of the suspect's line. */
	readonly line: number;
	/** The whole line. */
	readonly first: string;
	/** The shape of what stood before the report on its line. */
	readonly head: PrefixShape | null;
	/** What the report's first line is. */
	readonly kind: Token["kind"];
	/** The lines after it, held while undecided. */
	readonly held: { line: number; text: string }[] = [];
	/** The line from where the report starts. */
	readonly #report: string;
	/** The shape of what stood before the report, or of a later line's prefix. */
	#shape: PrefixShape | null;
	/** True when a later line starts with `#shape` too: it is a prefix of every line. */
	#confirmed = false;
	/** Blank lines held in a row: after them, the next line must be one only reports have. */
	#blanks = 0;
	/** True while one blank line followed each line after the prefix: the paste is double-spaced. */
	#spaced = true;
	/** True once a line after a blank one is held only because the paste may be double-spaced. */
	#spacedHold = false;
	readonly #panic: boolean;
	/** True while the last panic of the chain was `[recovered]`: the next one is its own. */
	#recovered: boolean;
	/** What must follow a goroutine header (a frame) or a race report's first line (an access). */
	readonly #needs: "frame" | "access" | null;

	private constructor(line: number, first: string, at: number, report: Token) {
		this.line = line;
		this.first = first;
		this.#report = first.slice(at);
		this.head = PrefixShape.of(first.slice(0, at));
		this.kind = report.kind;
		this.#shape = this.head;
		this.#panic = report.kind === "panic";
		this.#recovered = report.kind === "panic" && report.recovered;
		this.#needs =
			report.kind === "goroutine" ? "frame" : report.kind === "race-warning" ? "access" : null;
	}

	/**
	 * A suspect when a report seems to start inside `text` after other text, else null. Inside
	 * a crash only a reason counts: another thread's output may stand before a goroutine header
	 * there (crashgen's log-interleaved).
	 */
	static of(text: string, line: number, insideCrash: boolean): Suspect | null {
		const at = findReportStart(text);
		if (at < 0) return null;
		const report = classifyLine(text.slice(at));
		if (report.kind === "goroutine" && insideCrash) return null;
		return new Suspect(line, text, at, report);
	}

	/**
	 * Takes the next line. The runtime's report goes on with its reason (panic value lines,
	 * more panics, `runtime:` lines), then a blank line, then a goroutine header; or with a
	 * `[signal` or `PC=` line at once. One of those (or, after a goroutine header, a frame)
	 * makes it a report; anything else after the blank line, or too long a wait, makes it text
	 * that merely mentions one. Lines that start as the suspect's line did before its report are
	 * read without that prefix, which is learned when they do. `isForeign` tells another
	 * thread's output (see _splice.ts), which may come between.
	 */
	weigh(text: string, line: number, isForeign: (text: string) => boolean): Verdict {
		this.held.push({ line, text });
		const body = this.#shape?.strip(text) ?? null;
		if (body !== null) this.#confirmed = true;
		const token = classifyLine(body ?? text);
		// Double-spaced, a blank line comes first.
		if (this.#needs !== null && token.kind === "blank" && body !== null && this.held.length === 1)
			return "hold";
		if (this.#needs === "frame")
			return token.kind === "function" || token.kind === "stack-unavailable" ? "report" : "text";
		if (this.#needs === "access") return token.kind === "race-access" ? "report" : "text";
		if (isEvidence(token)) return "report";
		// runtime/panic.go printpanics indents every panic of a chain after the first, and a fatal
		// error after a panic: one at the start of a line is a report of its own, which the
		// suspect's line only mentioned. (Before a fatal error, `runtime:` lines are not indented.)
		// But a log pipeline may have dropped the tab: a line after the suspect's own prefix, or
		// a panic after a `[recovered]` one, goes on with the chain.
		if (token.kind === "panic" && this.#recovered) this.#recovered = token.recovered;
		else if (
			(token.kind === "panic" || (this.#panic && isOpening(token))) &&
			body === null &&
			!isIndented(text)
		)
			return "text";
		if (body === null) {
			// A goroutine header after a prefix that the suspect's line starts with too.
			const at = findEvidenceStart(text);
			const shape = at > 0 ? PrefixShape.of(text.slice(0, at)) : null;
			if (shape !== null && shape.strip(this.first) !== null) {
				this.#shape = shape;
				this.#confirmed = true;
				return "report";
			}
		}
		// Plain, so that a long run of mentions is read in time linear in its length.
		if (this.held.length >= MAX_SUSPECT_LINES) return "plain";
		// (A foreign shape was learned with the prefix on, before the prefix was known.)
		if (token.kind === "text" && (isForeign(text) || isForeign(token.text))) return "hold";
		if (token.kind === "blank") return ++this.#blanks > 3 ? "text" : "hold";
		const gap = this.#blanks;
		this.#blanks = 0;
		if (gap === 0) {
			// A line right after another: not double-spaced, so a line held after a blank one as
			// if it were was only text.
			if (this.#spacedHold) return "text";
			this.#spaced = false;
			return "hold";
		}
		// A double-spaced paste has one blank line between the lines of a report's reason, and
		// three where Go printed one.
		if (gap === 1 && this.#spaced && body !== null) {
			this.#spacedHold = true;
			return "hold";
		}
		return "text";
	}

	/** The prefix every line of the report carries, once it is one; null if none. */
	get prefix(): PrefixShape | null {
		return this.#confirmed ? this.#shape : null;
	}

	/** The report's first line: the suspect's line without its prefix, or from the report on. */
	get opening(): string {
		const own = this.unprefix(this.first);
		return own !== null && isOpening(classifyLine(own)) ? own : this.#report;
	}

	/** A held line without the learned prefix (and a known one it stood before), or null. */
	unprefix(text: string): string | null {
		const rest = this.prefix?.strip(text) ?? null;
		return rest === null ? null : (stripLogPrefix(rest)?.text ?? rest);
	}
}

/** True when a line starts with a tab or a space. */
function isIndented(text: string): boolean {
	const first = text.charCodeAt(0);
	return first === 0x09 || first === 0x20;
}
