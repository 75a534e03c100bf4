import type { ParseIssue } from "./_model.js";
import { stripLogPrefix } from "./_prefix.js";
import type { PrefixShape } from "./_shape.js";
import { ForeignLines } from "./_splice.js";

/** Longest line kept; the rest of a longer line is dropped and reported as an issue. */
export const MAX_LINE_LENGTH = 64 * 1024;

/** Receives each line as the program printed it, with its 1-based line number in the input. */
export type LineHandler = (text: string, lineNo: number) => void;

/** Receives what the line reader could not read as it was. */
export type IssueHandler = (code: ParseIssue["code"], message: string, lineNo: number) => void;

/**
 * Turns chunks of text into the lines the program printed: split at newlines wherever the chunks
 * were cut, CR removed, over-long lines cut, one log-pipeline prefix removed, Kubernetes CRI
 * partial lines joined, a prefix learned from a report's lines removed, and lines cut by another thread's output (learned in {@link foreign})
 * joined again.
 */
export class LineReader {
	/** Shapes of other output seen between crashes; the scanner teaches it. */
	readonly foreign = new ForeignLines();
	/** A prefix learned from the lines of the open report (see _shape.ts); the scanner sets it. */
	learned: PrefixShape | null = null;
	readonly #emit: LineHandler;
	readonly #issue: IssueHandler;
	#carry = "";
	#skippingLongLine = false;
	#partial = "";
	#fragment = "";
	/** Line number of the first piece of {@link #fragment}. */
	#fragmentLine = 0;
	#lineNo = 0;

	constructor(emit: LineHandler, issue: IssueHandler) {
		this.#emit = emit;
		this.#issue = issue;
	}

	/** Numbers the lines from `lines` + 1 on, before any is read: the input starts that far in. */
	countFrom(lines: number): void {
		this.#lineNo = lines;
	}

	/** Number of input lines read so far. */
	get lineNo(): number {
		return this.#lineNo;
	}

	/** The line number of a line held back to be joined with the next ones; null when none is. */
	get heldFrom(): number | null {
		return this.#fragment.length > 0 ? this.#fragmentLine : null;
	}

	/** True when no part of a line is held back: the next line is read on its own. */
	get idle(): boolean {
		return (
			this.#carry.length === 0 &&
			!this.#skippingLongLine &&
			this.#partial.length === 0 &&
			this.#fragment.length === 0
		);
	}

	/** Feeds the next chunk of text; chunk boundaries may fall anywhere, even inside a line. */
	write(chunk: string): void {
		let start = 0;
		for (;;) {
			const newline = chunk.indexOf("\n", start);
			if (newline < 0) break;
			if (
				this.#carry.length === 0 &&
				!this.#skippingLongLine &&
				newline - start <= MAX_LINE_LENGTH
			) {
				this.#endLine(chunk.slice(start, newline));
			} else {
				this.#take(chunk.slice(start, newline));
				this.#endLine(this.#carry);
			}
			start = newline + 1;
		}
		if (start < chunk.length) this.#take(chunk.slice(start));
	}

	/** Hands over whatever is left: a last line without a newline, a pending partial line. */
	end(): void {
		if (this.#carry.length > 0 || this.#skippingLongLine) this.#endLine(this.#carry);
		if (this.#partial.length > 0) {
			const text = this.#partial;
			this.#partial = "";
			this.#joined(text);
		}
		if (this.#fragment.length > 0) {
			const text = this.#fragment;
			this.#fragment = "";
			this.#emit(text, this.#fragmentLine);
		}
	}

	#take(piece: string): void {
		if (this.#skippingLongLine) return;
		if (this.#carry.length + piece.length > MAX_LINE_LENGTH) {
			this.#carry += piece.slice(0, MAX_LINE_LENGTH - this.#carry.length);
			this.#skippingLongLine = true;
			return;
		}
		this.#carry += piece;
	}

	#endLine(raw: string): void {
		let text = raw;
		this.#carry = "";
		this.#lineNo++;
		if (this.#skippingLongLine) {
			this.#skippingLongLine = false;
			this.#issue(
				"long-line",
				`line longer than ${MAX_LINE_LENGTH} characters was cut`,
				this.#lineNo,
			);
		}
		if (text.endsWith("\r")) text = text.slice(0, -1);
		let stripped = stripLogPrefix(text);
		if (this.learned !== null) {
			const inner = this.learned.strip(stripped?.text ?? text);
			// What the learned prefix stood before may be a known one (a Go log timestamp).
			if (inner !== null)
				stripped = {
					text: stripLogPrefix(inner)?.text ?? inner,
					partial: stripped?.partial ?? false,
					ok: stripped?.ok ?? true,
				};
		}
		if (stripped === null) {
			if (this.#partial.length === 0) return this.#joined(text);
			stripped = { text, partial: false, ok: true };
		}
		if (!stripped.ok) {
			this.#issue(
				"bad-prefix",
				"log line looks like Docker JSON but does not decode",
				this.#lineNo,
			);
		}
		if (stripped.partial) {
			if (this.#partial.length + stripped.text.length <= MAX_LINE_LENGTH)
				this.#partial += stripped.text;
			return;
		}
		const line = this.#partial.length > 0 ? this.#partial + stripped.text : stripped.text;
		this.#partial = "";
		this.#joined(line);
	}

	/** Rejoins lines that another thread's output was spliced into, then hands the line over. */
	#joined(text: string): void {
		const joined = this.#fragment.length > 0;
		const line = joined ? this.#fragment + text : text;
		const lineNo = joined ? this.#fragmentLine : this.#lineNo;
		const head = this.foreign.spliceHead(line);
		if (head !== null && head.length + text.length <= MAX_LINE_LENGTH) {
			this.#fragment = head;
			this.#fragmentLine = lineNo;
			return;
		}
		this.#fragment = "";
		// A joined line is numbered where it began.
		this.#emit(line, lineNo);
	}
}
