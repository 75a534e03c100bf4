import type { Token } from "./_classify.js";

// A report copied from a log viewer that shows the newest line first (Kibana, Grafana, a cloud
// console, `journalctl -r`) has its lines in reverse order: a goroutine's frames come before its
// header, each file line before its function line, the reason (`panic: …`) last. Read forwards,
// such a report is nothing but headers without frames; read from the last line up, it is whole.
// The sign is a goroutine header or `runtime stack:` straight after a function line that followed
// a file line (other output between them aside; see #signed): in Go's own order those follow a
// blank line or the reason. From a line
// that may be the end of a report (a frame, `exit status`) on, lines are kept while no report is
// open, so that once that sign comes they are read with the rest; until a report's reason, and
// past it until a line that is no part of a report, since reports before it may follow.

type Kind = Token["kind"];

/** Kinds of line a report ends with: what one printed newest first starts with. */
const TAIL: ReadonlySet<Kind> = new Set<Kind>([
	"file",
	"function",
	"created-by",
	"elided",
	"ancestor",
	"stack-unavailable",
	"register",
	"exit-status",
	"exit-signal",
]);
/** Kinds of line that start a report: read last, they are its end. */
const REASON: ReadonlySet<Kind> = new Set<Kind>([
	"panic",
	"fatal",
	"signal",
	"signal-header",
	"http-panic",
]);
/** Most lines kept while waiting for the sign, and most lines of a reversed report. */
const MAX_TAIL = 1000;
const MAX_REPORT = 200_000;
/** Lines of other output in a row after which the kept lines are let go. */
const MAX_OTHER = 40;

/** A line as read, with its input line number. */
export interface HeldLine {
	line: number;
	text: string;
}

/** Finds reports whose lines are in reverse order and holds them until they can be read. */
export class ReversedReports {
	/** Lines since the last one that cannot end a report, while no report is open. */
	#tail: (HeldLine & { kind: Kind })[] = [];
	/** Lines of other output at the end of {@link #tail}. */
	#other = 0;
	/** The lines of a reversed report, as read (newest first); null when none is being held. */
	#held: HeldLine[] | null = null;
	#sawReason = false;

	/** True while a reversed report's lines are being held. */
	get holding(): boolean {
		return this.#held !== null;
	}

	/** True when no line is kept: none read so far can be read again. */
	get idle(): boolean {
		return this.#held === null && this.#tail.length === 0;
	}

	/** The first line kept, or undefined. */
	get from(): number | undefined {
		return (this.#held ?? this.#tail)[0]?.line;
	}

	/**
	 * Looks at a line read while no report is open; true when it is the sign of a reversed
	 * report, whose lines from here are then held (see {@link hold}).
	 */
	watch(kind: Kind, text: string, line: number): boolean {
		const tail = this.#tail;
		if ((kind === "goroutine" || kind === "runtime-stack") && this.#signed()) {
			this.#held = [...tail, { line, text }];
			this.#tail = [];
			this.#other = 0;
			this.#sawReason = false;
			return true;
		}
		const other = kind === "text" || kind === "blank";
		if (!other && !TAIL.has(kind)) {
			this.#tail = [];
			this.#other = 0;
			return false;
		}
		if (tail.length === 0 && other) return false;
		this.#other = kind === "text" ? this.#other + 1 : 0;
		if (this.#other > MAX_OTHER) {
			this.#tail = [];
			this.#other = 0;
			return false;
		}
		tail.push({ line, text, kind });
		if (tail.length >= 2 * MAX_TAIL) this.#tail = tail.slice(-MAX_TAIL);
		return false;
	}

	// The kept lines end, other output aside, with what Go prints right after a header: a
	// function line (after its file line, read backwards), or `goroutine running on other
	// thread; stack unavailable` (after the `created by` line or a frame's file line).
	#signed(): boolean {
		let i = this.#tail.length - 1;
		const previous = (): Kind | undefined => {
			while (i >= 0 && this.#tail[i]?.kind === "text") i--;
			return this.#tail[i--]?.kind;
		};
		const last = previous();
		const before = previous();
		if (last === "function") return before === "file";
		return last === "stack-unavailable" && (before === "file" || before === "created-by");
	}

	/**
	 * Takes the next line while holding; false when the reports ended before it (other output
	 * past a reason, or too many lines), and the line is to be read as usual once the held ones are.
	 */
	hold(kind: Kind, text: string, line: number): boolean {
		const held = this.#held;
		if (held === null || held.length >= MAX_REPORT) return false;
		// Past the reason, only an indented line of text (a runtime diagnostic's, a panic value's)
		// still belongs to the report.
		if (this.#sawReason && kind === "text" && !isIndented(text)) return false;
		if (REASON.has(kind)) this.#sawReason = true;
		held.push({ line, text });
		return true;
	}

	/** The held lines in the order the program printed them; holding stops. */
	take(): HeldLine[] {
		const held = this.#held ?? [];
		this.#held = null;
		return held.reverse();
	}
}

function isIndented(text: string): boolean {
	const c = text.charCodeAt(0);
	return c === 0x09 || c === 0x20;
}
