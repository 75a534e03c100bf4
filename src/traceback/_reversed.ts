import type { Token } from "./_classify.js";

// A report copied from a log viewer that shows the newest line first (Kibana, Grafana, a cloud
// console, `journalctl -r`) has its lines in reverse order: a goroutine's frames come before its
// header, each file line before its function line, the reason (`panic: …`) last. Read forwards,
// such a report is nothing but headers without frames; read from the last line up, it is whole.
//
// The sign is a goroutine header, `runtime stack:` or a race report's access or goroutine line
// right after what Go prints right after one (see #signed): a function line that came right after its indented file line, or `goroutine
// running on other thread; stack unavailable`. In Go's own order a header follows a blank line or
// the reason. From a line that may be the end of a report (a frame, `exit status`) on, lines are
// kept while no report is open, so that once the sign comes they are read with the rest. Then
// lines are held up to the report's reason and past it while they are what Go prints before a
// reason (see #pastReason), and read again from the last one up.

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
	"race-separator",
]);
/** Kinds of line that a stack follows in Go's order: read backwards, they come after it. */
const HEADER: ReadonlySet<Kind> = new Set<Kind>([
	"goroutine",
	"runtime-stack",
	"race-access",
	"race-goroutine",
]);
/** Kinds of line that start a report: read last, they are its end. */
const REASON: ReadonlySet<Kind> = new Set<Kind>([
	"panic",
	"fatal",
	"signal",
	"signal-header",
	"http-panic",
	"race-warning",
]);
/** Most lines kept while waiting for the sign. */
const MAX_TAIL = 1000;
/** Most lines, and characters, of a reversed report: past them it is read in parts. */
const MAX_LINES = 200_000;
const MAX_CHARS = 8 * 1024 * 1024;
/** Lines of other output in a row after which the lines kept or held are let go. */
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
	/** The lines of a reversed report, as read (newest first); null when none is being held. */
	#held: HeldLine[] | null = null;
	#chars = 0;
	/** Lines of other output in a row, last kept or held. */
	#other = 0;
	/** Where the held lines are: before the report's reason, at it, or after a blank line past it. */
	#at: "stack" | "reason" | "blank" = "stack";
	/** The kind of the last reason line held. */
	#reason: Kind | null = null;

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
	 * report, whose lines from here are then held (see {@link hold}). Lines of other output are
	 * not kept: they are read as they come.
	 */
	watch(kind: Kind, text: string, line: number): boolean {
		if (HEADER.has(kind) && this.#signed()) {
			this.#held = [...this.#tail, { line, text }];
			this.#chars = this.#held.reduce((n, l) => n + l.text.length, 0);
			this.#tail = [];
			this.#other = 0;
			this.#at = "stack";
			this.#reason = null;
			return true;
		}
		if (kind === "text" || kind === "blank") {
			if (this.#tail.length > 0 && kind === "blank") this.#tail.push({ line, text, kind });
			else if (kind === "text" && ++this.#other > MAX_OTHER) this.#tail = [];
			return false;
		}
		this.#other = 0;
		if (!TAIL.has(kind)) {
			this.#tail = [];
			return false;
		}
		const tail = this.#tail;
		tail.push({ line, text, kind: kind === "file" && !isIndented(text) ? "text" : kind });
		if (tail.length >= 2 * MAX_TAIL) this.#tail = tail.slice(-MAX_TAIL);
		return false;
	}

	// The last two lines kept are what Go prints after a header, read backwards: a function line
	// after its file line, or `goroutine running on other thread; stack unavailable` after the
	// `created by` line or a frame's file line. (A file line that is not indented counts as other
	// output here: log lines end in `host:port` too.)
	#signed(): boolean {
		const last = this.#tail.at(-1)?.kind;
		const before = this.#tail.at(-2)?.kind;
		if (last === "function") return before === "file";
		return last === "stack-unavailable" && (before === "file" || before === "created-by");
	}

	/**
	 * Takes the next line while holding; false when the report ended before it (see
	 * #pastReason), or grew too long, and the line is to be read as usual once the held ones are.
	 */
	hold(kind: Kind, text: string, line: number): boolean {
		const held = this.#held;
		if (held === null || held.length >= MAX_LINES || this.#chars + text.length > MAX_CHARS)
			return false;
		if (this.#at !== "stack" && !this.#pastReason(kind, text)) return false;
		if (kind === "text" && !isIndented(text)) {
			if (++this.#other > MAX_OTHER) return false;
		} else this.#other = 0;
		if (REASON.has(kind)) {
			this.#at = "reason";
			this.#reason = kind;
		}
		held.push({ line, text });
		this.#chars += text.length;
		return true;
	}

	// Past a reason, read backwards, come what Go prints before it: runtime diagnostics and their
	// indented lines, an earlier value of a panic chain or the panic a signal line follows (with
	// no blank line between), blank lines, and the `-----` before another thread's dump, which
	// has a stack and a reason of its own. Anything else, a reason after a blank line too, is
	// other output or a report of its own.
	#pastReason(kind: Kind, text: string): boolean {
		switch (kind) {
			case "blank":
				this.#at = "blank";
				return true;
			case "runtime":
			case "pc-header":
				return true;
			case "race-separator":
				// The line before `WARNING: DATA RACE`; after other reasons, the end of a race report.
				return this.#reason === "race-warning";
			case "thread-separator":
				this.#at = "stack";
				return true;
			case "text":
				return isIndented(text);
			default:
				return REASON.has(kind) && this.#at === "reason";
		}
	}

	/** The held lines in the order the program printed them; holding stops. */
	take(): HeldLine[] {
		const held = this.#held ?? [];
		this.#held = null;
		this.#chars = 0;
		this.#other = 0;
		return held.reverse();
	}
}

function isIndented(text: string): boolean {
	const c = text.charCodeAt(0);
	return c === 0x09 || c === 0x20;
}
