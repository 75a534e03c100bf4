import { BAD_SYSTEMSTACK, classifyLine, KLOG_PANIC, type Token } from "./_classify.js";
import { escapedLines } from "./_escaped.js";
import { newFrame } from "./_frame.js";
import { IssueList } from "./_issues.js";
import { LineReader } from "./_lines.js";
import { LooseFrames } from "./_loose.js";
import type {
	Ancestor,
	Crash,
	Frame,
	Goroutine,
	ParseIssue,
	ParseResult,
	RaceAccess,
	RaceGoroutine,
	RaceReport,
	Signal,
} from "./_model.js";
import { headerlessGoroutine, newGoroutine, newSignal, readStackWords } from "./_records.js";
import { ReversedReports } from "./_reversed.js";
import type { PrefixShape } from "./_shape.js";
import { Suspect, type Verdict } from "./_suspect.js";

/** Callbacks that receive goroutines, crashes and race reports as soon as each is complete. */
export interface ScanHandlers {
	goroutine?(goroutine: Goroutine, crash: Crash): void;
	crash?(crash: Crash): void;
	race?(race: RaceReport): void;
	/** Each issue as it is found, also those past the number kept in the result. */
	issue?(issue: ParseIssue): void;
	/** Each `Found N data race(s)` line's count; the result keeps the last. */
	raceCount?(count: number): void;
	/**
	 * Called after each line after which nothing earlier matters: no crash or race report is
	 * open, no line is held, and no shape of other output is being learned. From there on the
	 * scanner reads as a new one would; `lines` is the number of input lines read.
	 */
	sync?(lines: number): void;
}

/** Options of a {@link CrashScanner}. */
export interface ScanOptions {
	/**
	 * Keep crashes, race reports and goroutines in the result (default true). With false they are
	 * only handed to the handlers, and memory stays flat however long the input is.
	 */
	keep?: boolean;
	/**
	 * Lines of the input before the text given (default 0), which starts at a line's start: line
	 * numbers and line counts go on from there.
	 */
	firstLine?: number;
}

/** Unplaceable lines in a row after which an open crash is taken to have ended. */
const FOREIGN_RUN = 40;
/** Most lines held while deciding whether a goroutine header belongs to a panic value. */
const MAX_HELD_LINES = 200;
/** Most continuation lines appended to a multi-line panic value. */
const MAX_VALUE_LINES = 1_000;
type Phase = "reason" | "runtime-stack" | "goroutines" | "registers";
type FrameTarget =
	| "goroutine"
	| "created-by"
	| "ancestor"
	| "ancestor-created-by"
	| "runtime-stack"
	| "race";

/**
 * A streaming parser of Go crash text, written as a state machine over classified lines.
 *
 * Feed text with {@link write} in chunks of any size and call {@link end} once. The states are:
 * outside any crash; in a crash's reason (panic values, fatal error, signal, runtime diagnostics);
 * in `runtime stack:`; in a goroutine (frames, `created by`, ancestors); in a register dump; and
 * in a race report. Lines that cannot be placed inside a crash are kept as issues; a long run of
 * them ends the crash, since a log has then moved on to other output. A report that seems to
 * start after other text on its line (a prompt, a log message) is a suspect: its lines are held
 * until those after it show whether it is one (see #weigh), and a prefix they share with it is
 * learned and stripped until the report ends.
 */
export class CrashScanner {
	readonly #handlers: ScanHandlers;
	readonly #keep: boolean;
	readonly #crashes: Crash[] = [];
	readonly #races: RaceReport[] = [];
	readonly #issues = new IssueList();
	#raceCount: number | null = null;

	#lineNo = 0;

	#crash: Crash | null = null;
	#phase: Phase = "reason";
	#valueOpen = false;
	#valueLines = 0;
	/** A line inside a stack that may go on on the next line, as a terminal wrapped it. */
	#wrapped: { line: number; text: string } | null = null;
	/** The open goroutine whose stack the runtime could not unwind: blank lines do not end it. */
	#unwinding: Goroutine | null = null;
	/** True when the suspect came after the same text as the open report's first line. */
	#suspectAgain = false;
	/** The shape of what stood before the open crash's first line on its line, if anything did. */
	#reportHead: PrefixShape | null = null;
	/** Spaces and tabs before the first panic line of the open crash. */
	#valueIndent = 0;
	#goroutine: Goroutine | null = null;
	#ancestor: Ancestor | null = null;
	#target: FrameTarget = "goroutine";
	#pending: Frame | null = null;
	#race: RaceReport | null = null;
	#raceSection: RaceAccess | RaceGoroutine | null = null;
	#unknown: { line: number; text: string }[] = [];
	/** The signal that `PC=` and `signal arrived during cgo execution` lines belong to. */
	#signal: Signal | null = null;
	/** Where register lines go: the crash's own registers or another thread's. */
	#registers: Record<string, string> | null = null;
	/** True after a `-----` line: another thread's dump of the same crash follows. */
	#threadDump = false;
	readonly #lines = new LineReader(
		(text, lineNo) => {
			this.#lineNo = lineNo;
			this.#line(text);
			if (this.#handlers.sync !== undefined && this.#isFresh()) {
				this.#handlers.sync(this.#lines.lineNo);
			}
		},
		(code, message, lineNo) => this.#issue(code, message, lineNo),
	);
	/** Lines of other output skipped inside the open crash or race report. */
	#interleaved = 0;
	/** Lines held while a goroutine header inside a panic value is undecided (see #hold). */
	#held: { line: number; text: string }[] | null = null;
	/** Index in #held of the first blank line, or -1 before it. */
	#heldBeforeBlank = -1;
	#replaying = false;
	/** The current line, log prefix removed. */
	#raw = "";
	/** A report that seems to start after other text on its line (see #weigh). */
	#suspect: Suspect | null = null;
	/** True while a suspect's own line is read again as the text it turned out to be. */
	#plain = false;
	/** True while a crash or race report is opened: the prefix learned for it stays. */
	#opening = false;
	/** Reports printed newest line first (see _reversed.ts). */
	readonly #reversed = new ReversedReports();
	/** True while a reversed report's lines are read in their own order. */
	#unreversing = false;
	/** True after Windows' own crash header, until the stack without a header that follows it. */
	#headerless = false;
	/** Frames outside any report (see _loose.ts). */
	readonly #loose = new LooseFrames();
	/**
	 * Double spacing (a blank line after every line, as some pages and mail clients paste text):
	 * `#spacing` is "held" for a blank line right after a line that a stack follows (a goroutine
	 * header, `runtime stack:`, a race report's access or goroutine line) or a function line,
	 * which Go never prints, until the next line says; "on" once a frame, or that function's file
	 * line, followed it. Then only two or more blank lines in a row (#blanks) are a blank line of
	 * Go's.
	 */
	#spacing: "off" | "held" | "on" = "off";
	#blanks = 0;
	/** What the held blank line came after: a function line, or a line a stack follows. */
	#heldAfter: "function" | "header" = "header";

	constructor(handlers: ScanHandlers = {}, options: ScanOptions = {}) {
		this.#handlers = handlers;
		this.#keep = options.keep ?? true;
		this.#lines.countFrom(options.firstLine ?? 0);
	}

	/** Feeds the next chunk of text; chunk boundaries may fall anywhere, even inside a line. */
	write(chunk: string): void {
		this.#lines.write(chunk);
	}

	/** Number of input lines read so far. */
	get linesRead(): number {
		return this.#lines.lineNo;
	}

	/**
	 * The first input line that a report still open, or lines held undecided, began at; null
	 * when none is: lines before it can no longer be part of a report.
	 */
	get openFrom(): number | null {
		let from = Number.POSITIVE_INFINITY;
		for (const line of [
			this.#crash?.startLine,
			this.#race?.startLine,
			this.#held?.[0]?.line,
			this.#suspect?.line,
			this.#lines.heldFrom,
			this.#reversed.from,
		])
			if (line !== undefined && line !== null && line < from) from = line;
		return from === Number.POSITIVE_INFINITY ? null : from;
	}

	// See ScanHandlers.sync. #closeCrash and #closeRace put back everything else that goes
	// with an open crash or race report, and forget the shapes of other output.
	#isFresh(): boolean {
		return (
			this.#crash === null &&
			this.#race === null &&
			this.#held === null &&
			this.#interleaved === 0 &&
			this.#suspect === null &&
			this.#reversed.idle &&
			this.#loose.idle &&
			this.#lines.learned === null &&
			this.#lines.idle &&
			this.#lines.foreign.isEmpty
		);
	}

	/** Finishes the input and returns everything found. */
	end(): ParseResult {
		this.#lines.end();
		this.#lineNo = this.#lines.lineNo;
		if (this.#reversed.holding) this.#unreverse();
		const loose = this.#loose.end();
		if (loose !== null) this.#issue("stack-without-header", loose.message, loose.line);
		this.#closeAll();
		return {
			crashes: this.#crashes,
			races: this.#races,
			raceCount: this.#raceCount,
			issues: this.#issues.list(this.#lineNo),
			lines: this.#lineNo,
		};
	}

	/**
	 * Takes a line while a goroutine header inside a panic value is undecided. At the first
	 * non-blank line after a blank one: a goroutine header there means the held lines before
	 * the blank belonged to the value; anything else, or too many lines, means they were a
	 * real goroutine (its blank line lost) and they are handled as such.
	 */
	#hold(text: string): void {
		const held = this.#held;
		if (held === null) return;
		const isBlank = text.trim() === "";
		if (isBlank || this.#heldBeforeBlank < 0) {
			if (isBlank && this.#heldBeforeBlank < 0) this.#heldBeforeBlank = held.length;
			held.push({ line: this.#lineNo, text });
			if (held.length >= MAX_HELD_LINES) this.#release(0);
			return;
		}
		held.push({ line: this.#lineNo, text });
		this.#release(classifyLine(text).kind === "goroutine" ? this.#heldBeforeBlank : 0);
	}

	/** Replays the held lines: the first `valueLines` as panic value text, the rest as read. */
	#release(valueLines: number): void {
		const held = this.#held ?? [];
		this.#held = null;
		const lineNo = this.#lineNo;
		this.#replaying = true;
		held.forEach(({ line, text }, i) => {
			this.#lineNo = line;
			if (i < valueLines) this.#text(text);
			else this.#line(text);
		});
		this.#replaying = false;
		this.#lineNo = lineNo;
	}

	#issue(code: ParseIssue["code"], message: string, line = this.#lineNo): void {
		const issue = { code, line, message };
		this.#issues.add(issue);
		this.#handlers.issue?.(issue);
	}

	/** Starts holding lines when a report seems to start inside `text` after other text. */
	#suspectReport(text: string): boolean {
		if (this.#plain || this.#valueOpen || this.#race !== null) return false;
		// A report after the same text as the open one's: a logger's `PANIC: %v %s` with
		// debug.Stack() once more, not another thread's output inside the open report.
		const again = this.#crash !== null && this.#reportHead?.strip(text) != null;
		const suspect = Suspect.of(text, this.#lineNo, this.#crash !== null && !again);
		this.#suspect = suspect;
		// The open report ends only if the lines after say this one is a report too (#settle),
		// and one that starts as reports do: `runtime:` lines go with the open one.
		this.#suspectAgain = again && suspect !== null && REPORT_STARTS.has(suspect.kind);
		return suspect !== null;
	}

	#weigh(text: string): void {
		const verdict = this.#suspect?.weigh(text, this.#lineNo, (t) =>
			this.#lines.foreign.isForeign(t),
		);
		if (verdict !== undefined && verdict !== "hold") this.#settle(verdict);
	}

	/**
	 * Reads the suspect's lines again: as a report (its prefix removed and learned) or as they
	 * were, the held ones (unless `plain`) looked at again for reports after other text.
	 */
	#settle(verdict: Exclude<Verdict, "hold">): void {
		const suspect = this.#suspect;
		if (suspect === null) return;
		this.#suspect = null;
		const lineNo = this.#lineNo;
		const report = verdict === "report";
		this.#lineNo = suspect.line;
		if (report && this.#suspectAgain) this.#closeCrash();
		this.#suspectAgain = false;
		if (report) {
			this.#lines.learned = suspect.prefix;
			this.#line(suspect.opening);
			if (this.#crash !== null) this.#reportHead = suspect.head;
		} else {
			this.#plain = true;
			this.#line(suspect.first);
			this.#plain = false;
		}
		this.#plain = verdict === "plain";
		for (const { line, text } of suspect.held) {
			this.#lineNo = line;
			this.#line((report ? suspect.unprefix(text) : null) ?? text);
		}
		this.#plain = false;
		this.#lineNo = lineNo;
	}

	#line(text: string): void {
		if (this.#suspect !== null) return this.#weigh(text);
		if (this.#held !== null) return this.#hold(text);
		this.#raw = text;
		const token = classifyLine(text);
		if (token.kind === "panic" || token.kind === "fatal") {
			// The reason and the first goroutine's header on one line: a paste lost the newline
			// and the blank line between them (bcicen/ctop#254).
			const header = gluedHeader.exec(text);
			if (header !== null) {
				this.#line(text.slice(0, header.index));
				this.#line("");
				return this.#line(text.slice(header.index + 1));
			}
		}
		const head = this.#wrapped;
		if (head !== null) {
			const kind = isWrapped(head.text, text) ? classifyLine(head.text + text).kind : "text";
			if (kind === "function" || kind === "file") {
				this.#wrapped = null;
				const lineNo = this.#lineNo;
				this.#lineNo = head.line;
				this.#line(head.text + text);
				this.#lineNo = lineNo;
				return;
			}
			this.#flushWrapped();
			this.#raw = text;
		}
		if ((token.kind === "blank" || this.#spacing !== "off") && this.#spacingTakes(token.kind))
			return;
		if (this.#reversed.holding) {
			if (this.#reversed.hold(token.kind, text, this.#lineNo)) return;
			this.#unreverse();
			this.#raw = text;
		}
		if (this.#crash === null && this.#race === null && !this.#unreversing) {
			if (this.#reversed.watch(token.kind, text, this.#lineNo)) return this.#loose.drop();
			const loose = this.#loose.see(token, this.#lineNo);
			if (loose !== null) this.#issue("stack-without-header", loose.message, loose.line);
		}
		if (this.#unwinding !== null && token.kind !== "blank") {
			const kind = token.kind;
			if (kind === "created-by") this.#unwinding = null;
			else if (kind !== "runtime" && kind !== "stack-words" && kind !== "stack-bounds") {
				if (this.#goroutine === this.#unwinding) this.#closeGoroutine();
				this.#unwinding = null;
			}
		}
		if (token.kind === "goroutine" && this.#valueOpen && !this.#replaying) {
			// Go prints a blank line between a panic value and the first goroutine, so a header
			// before that blank line may be the value's own text (Go ≤1.22 did not indent it).
			// Hold the lines until the blank line says which (see #hold).
			this.#held = [{ line: this.#lineNo, text }];
			this.#heldBeforeBlank = -1;
			return;
		}
		switch (token.kind) {
			case "text": {
				// The abort's signal line after badsystemstack's message, which has no newline.
				if (text.startsWith(BAD_SYSTEMSTACK)) {
					this.#line(BAD_SYSTEMSTACK);
					return this.#line(text.slice(BAD_SYSTEMSTACK.length));
				}
				// runtime/mgcmark.go gcDumpObject marks the words it skipped with ` ...`.
				if (text === " ..." && this.#crash?.runtimeLines.at(-1)?.startsWith("*(") === true) {
					this.#crash.runtimeLines.push("...");
					return;
				}
				const lines = escapedLines(text);
				if (lines !== null) return this.#escaped(lines);
				if (this.#suspectReport(text)) return;
				// Shapes are learned outside crashes only: inside, repeated lines may be a panic
				// value's own text or the cut pieces of Go's lines.
				if (this.#crash === null && this.#race === null) this.#lines.foreign.learn(text);
				// Inside a stack, a line that a terminal or an editor wrapped: the next line says.
				if (this.#goroutine !== null && this.#wrapped === null && !this.#valueOpen) {
					this.#wrapped = { line: this.#lineNo, text: this.#raw };
					return;
				}
				return this.#text(this.#raw);
			}
			case "blank":
				return this.#blank();
			case "race-separator":
				if (this.#race !== null) this.#closeRace(false);
				return;
			case "race-found":
				this.#raceCount = token.count;
				this.#handlers.raceCount?.(token.count);
				return;
			case "panic":
			case "fatal":
			case "signal":
				break;
			default: {
				// runtime/error.go printindented: every further line of a multi-line panic value
				// starts with a tab, so an indented line there is the value's own text, even one
				// that reads like a goroutine header.
				// Deeper than the chain's first panic line, that is: a paste indented as a whole
				// indents that line and the goroutine header after it alike.
				const first = text.charCodeAt(0);
				if (
					this.#valueOpen &&
					(first === 0x09 || first === 0x20) &&
					indentation(text) > this.#valueIndent
				)
					return this.#text(text);
			}
		}
		if (this.#race !== null && this.#raceToken(token)) return;
		this.#crashToken(token);
	}

	/**
	 * Reads the lines of a stack a logger wrote on one line (see _escaped.ts) as a report of its
	 * own: what was open ends before it, and it ends with its line.
	 */
	#escaped(lines: readonly string[]): void {
		this.#closeAll();
		for (const line of lines) this.#line(line);
		this.#closeAll();
	}

	/** Double spacing's part in reading a line of `kind`: true when it takes the line. */
	#spacingTakes(kind: Token["kind"]): boolean {
		if (kind !== "blank") {
			this.#spaced(kind);
			return false;
		}
		return (this.#crash !== null || this.#race !== null) && this.#spacedBlank();
	}

	/** Takes a blank line inside a report that double spacing holds or may hold; false if not. */
	#spacedBlank(): boolean {
		if (this.#spacing === "on") {
			this.#blanks++;
			return true;
		}
		if (this.#spacing !== "off") return false;
		// Right after a function line (its frame waits for the file line) or a line a stack follows.
		const section = this.#raceSection ?? this.#goroutine;
		const header =
			this.#pending === null &&
			(this.#target === "runtime-stack"
				? this.#phase === "runtime-stack" && this.#crash?.runtimeStack.length === 0
				: this.#target === "race"
					? section?.frames.length === 0
					: this.#goroutine !== null &&
						this.#goroutine.frames.length === 0 &&
						this.#goroutine.createdBy === null &&
						!this.#goroutine.stackUnavailable);
		if (this.#pending === null && !header) return false;
		this.#spacing = "held";
		this.#heldAfter = this.#pending === null ? "header" : "function";
		return true;
	}

	/** Settles the blank lines double spacing holds, before a line of `kind`. */
	#spaced(kind: Token["kind"]): void {
		if (this.#spacing === "held") {
			const frame =
				this.#heldAfter === "function"
					? kind === "file"
					: kind === "function" || kind === "stack-unavailable";
			this.#spacing = frame ? "on" : "off";
			if (!frame) this.#blank();
		} else if (this.#blanks > 0) {
			const own = this.#blanks >= 2;
			this.#blanks = 0;
			if (own) this.#blank();
		}
	}

	/** Reads every line still held as it stands, then closes what is open, as at the input's end. */
	#closeAll(): void {
		// Putting held lines back may hold others: a suspect's lines may hold a panic value's.
		while (this.#suspect !== null || this.#held !== null) {
			this.#settle("text");
			this.#release(0);
		}
		this.#flushWrapped();
		this.#closeRace(true);
		this.#closeCrash();
	}

	/**
	 * Reads a reversed report's held lines in the order the program printed them, as a report of
	 * its own: whatever it left open is closed after its last line.
	 */
	#unreverse(): void {
		const lines = this.#reversed.take();
		const first = lines.at(-1)?.line ?? this.#lineNo;
		const last = lines[0]?.line ?? this.#lineNo;
		this.#issue(
			"reversed-lines",
			`lines ${first}-${last} are in reverse order (newest first, as log viewers show them): read from the last up`,
			first,
		);
		const lineNo = this.#lineNo;
		this.#unreversing = true;
		for (const { line, text } of lines) {
			this.#lineNo = line;
			this.#line(text);
		}
		this.#closeAll();
		this.#unreversing = false;
		this.#lineNo = lineNo;
	}

	#text(text: string): void {
		if ((this.#crash !== null || this.#race !== null) && this.#lines.foreign.isForeign(text)) {
			// Another thread's output, recognised by its repeated shape: counted, not placed.
			this.#interleaved++;
			return;
		}
		if (this.#crash !== null && this.#valueOpen) {
			const panic = this.#crash.panics.at(-1);
			if (panic !== undefined && this.#valueLines < MAX_VALUE_LINES) {
				// runtime/error.go printindented: continuation lines of a value start with a tab,
				// which log pipelines may have turned into spaces, dropped or indented further.
				const line = valueLine(text);
				// A value that ends with a newline has its mark on a line of its own.
				const mark = /^ ?\[recovered(, repanicked)?\]$/.exec(line);
				if (mark !== null) {
					panic.recovered = true;
					panic.repanicked = mark[1] !== undefined;
					panic.value += "\n";
					this.#valueOpen = false;
					this.#crash.endLine = this.#lineNo;
					return;
				}
				panic.value += `\n${line}`;
				this.#valueLines++;
				this.#crash.endLine = this.#lineNo;
				return;
			}
		}
		if (this.#crash === null && this.#race === null) return;
		this.#unknown.push({ line: this.#lineNo, text });
		if (this.#unknown.length >= FOREIGN_RUN) {
			// The log moved on to other output: what was open ended before these lines.
			this.#unknown = [];
			this.#closeRace(true);
			this.#closeCrash();
		}
	}

	#placed(): void {
		for (const { line, text } of this.#unknown) {
			this.#issue("unplaced-line", `unrecognised line inside crash text: ${clip(text)}`, line);
		}
		this.#unknown = [];
		if (this.#crash !== null) this.#crash.endLine = this.#lineNo;
		if (this.#race !== null) this.#race.endLine = this.#lineNo;
	}

	/** Reads the line held as maybe wrapped as the text it is, numbered where it was. */
	#flushWrapped(): void {
		const wrapped = this.#wrapped;
		if (wrapped === null) return;
		this.#wrapped = null;
		const lineNo = this.#lineNo;
		this.#lineNo = wrapped.line;
		this.#text(wrapped.text);
		this.#lineNo = lineNo;
	}

	#blank(): void {
		// runtime/error.go printindented (Go 1.23+) indents a value's own blank lines too: a tab
		// alone, where Go's blank line after the value is empty.
		const panic = this.#crash?.panics.at(-1);
		if (
			this.#valueOpen &&
			panic !== undefined &&
			this.#valueLines < MAX_VALUE_LINES &&
			this.#raw.endsWith("\t") &&
			indentation(this.#raw) > this.#valueIndent
		) {
			panic.value += "\n";
			this.#valueLines++;
			return;
		}
		this.#valueOpen = false;
		this.#flushPending();
		// runtime/traceback.go: a goroutine whose pc it cannot unwind gets `runtime: unknown pc`
		// and its stack's words, each time it tries, a blank line, and then its `created by`.
		if (this.#goroutine !== null && this.#goroutine === this.#unwinding) return;
		if (this.#goroutine !== null) this.#closeGoroutine();
		this.#raceSection = null;
		if (this.#phase === "runtime-stack") this.#phase = "goroutines";
	}

	#crashToken(
		token: Exclude<Token, { kind: "text" | "blank" | "race-separator" | "race-found" }>,
	): void {
		// Cases in order of how common their lines are: a switch tests them one by one.
		switch (token.kind) {
			case "function": {
				// runtime/traceback.go prints nothing of a goroutine after its `created by` line but
				// ancestors: a function line there belongs to a goroutine whose header (and the blank
				// line before it) was lost, never to this one.
				if (this.#target === "created-by") this.#closeGoroutine();
				if (!this.#acceptsFrames() && !this.#openHeaderless()) return this.#text(this.#raw);
				this.#flushPending();
				if (this.#target === "ancestor-created-by") this.#target = "ancestor";
				this.#pending = newFrame(token.name, token.args);
				break;
			}
			case "file": {
				const frame = this.#pending;
				if (frame === null) return this.#text(this.#raw);
				frame.file = token.file;
				frame.line = token.line;
				frame.offset = token.offset;
				frame.fp = token.fp;
				frame.sp = token.sp;
				frame.pc = token.pc;
				if (token.cut)
					this.#issue(
						"truncated",
						`frame line cut inside its fp=, sp=, pc= part: ${clip(this.#raw.trim())}`,
					);
				this.#flushPending();
				break;
			}
			case "panic": {
				const crash = this.#crash;
				const value = {
					value: token.value,
					recovered: token.recovered,
					repanicked: token.repanicked,
				};
				if (crash !== null && this.#inReason() && crash.fatal === null) {
					crash.panics.push(value);
					if (crash.kind === "dump") crash.kind = "panic";
					crash.message ??= this.#raw.trim();
				} else {
					this.#openCrash("panic", this.#raw).panics.push(value);
				}
				const panics = (this.#crash as Crash).panics;
				if (panics.length === 1) this.#valueIndent = indentation(this.#raw);
				// A runtime.Error's text is one line (runtime/error.go): nothing after it is its own;
				// nor after a value klog quoted on its line.
				this.#valueOpen =
					!token.value.startsWith("runtime error: ") && !this.#raw.startsWith(KLOG_PANIC);
				this.#valueLines = 0;
				break;
			}
			case "fatal": {
				const crash = this.#crash;
				const line = this.#raw.trim();
				if (crash !== null && this.#inReason() && crash.fatal === null) {
					crash.fatal = token.message;
					if (crash.kind === "dump") crash.kind = "fatal";
					crash.message ??= line;
				} else if (crash !== null && this.#inReason() && crash.fatal === token.message) {
					// Two threads threw at once (both writers of a map): one crash, printed twice.
				} else {
					this.#openCrash("fatal", line).fatal = token.message;
				}
				this.#valueOpen = false;
				break;
			}
			case "signal": {
				let crash = this.#crash;
				if (crash === null || !this.#inReason() || crash.signal !== null) {
					crash = this.#openCrash("signal", this.#raw);
				}
				crash.signal = newSignal(token.name, token.description, token.code, token.addr, token.pc);
				this.#signal = crash.signal;
				this.#valueOpen = false;
				this.#headerless = token.headerless;
				break;
			}
			case "signal-header": {
				if (this.#threadDump && this.#crash !== null) {
					this.#flushPending();
					this.#closeGoroutine();
					const thread = {
						signal: newSignal(token.name, token.description, null, null, null),
						registers: {},
					};
					this.#crash.threads.push(thread);
					this.#signal = thread.signal;
					this.#registers = thread.registers;
					this.#threadDump = false;
					break;
				}
				let crash = this.#crash;
				const line = this.#raw.trim();
				const afterDump =
					crash !== null &&
					crash.signal === null &&
					(crash.panics.length > 0 || crash.fatal !== null);
				if (crash === null || crash.signal !== null || !(this.#inReason() || afterDump)) {
					crash = this.#openCrash("signal", line);
				}
				if (crash.kind === "dump") crash.kind = "signal";
				crash.message ??= line;
				crash.signal = newSignal(token.name, token.description, null, null, null);
				this.#signal = crash.signal;
				this.#registers = crash.registers;
				this.#closeGoroutine();
				this.#phase = "reason";
				this.#valueOpen = false;
				break;
			}
			case "pc-header": {
				const signal = this.#signal;
				if (signal === null) return this.#text(this.#raw);
				signal.pc = token.pc;
				signal.m = token.m;
				signal.code ??= token.code;
				signal.addr ??= token.addr;
				break;
			}
			case "cgo-signal": {
				const signal = this.#signal;
				if (signal === null) return this.#text(this.#raw);
				signal.duringCgo = true;
				break;
			}
			case "instruction-bytes": {
				const signal = this.#signal;
				if (signal === null) return this.#text(this.#raw);
				signal.instructionBytes = token.bytes;
				break;
			}
			case "thread-separator":
				if (this.#crash === null) return this.#text(this.#raw);
				this.#flushPending();
				this.#closeGoroutine();
				this.#threadDump = true;
				break;
			case "runtime":
				this.#ensureCrash().runtimeLines.push(token.text);
				break;
			case "panic-during-panic":
				this.#ensureCrash().panicDuringPanic = true;
				break;
			case "stack-bounds":
				this.#ensureCrash().stackDumps.push({ header: token.text, words: [] });
				if (this.#goroutine !== null && this.#goroutine.frames.length === 0)
					this.#unwinding = this.#goroutine;
				break;
			case "stack-words": {
				const crash = this.#crash;
				const dump = crash?.stackDumps.at(-1);
				// runtime/mgcsweep.go reportZombies dumps each zombie object's words after its line.
				if (crash !== null && dump === undefined && isZombieDump(crash.runtimeLines.at(-1))) {
					crash.runtimeLines.push(this.#raw.trim());
					break;
				}
				if (dump === undefined) return this.#text(this.#raw);
				readStackWords(dump, token.address, token.rest);
				break;
			}
			case "runtime-stack":
				this.#flushPending();
				this.#closeGoroutine();
				this.#ensureCrash();
				this.#phase = "runtime-stack";
				this.#target = "runtime-stack";
				break;
			case "goroutine": {
				this.#opening = true;
				this.#closeRace(true);
				this.#opening = false;
				this.#flushPending();
				this.#closeGoroutine();
				const crash = this.#ensureCrash();
				this.#phase = "goroutines";
				this.#valueOpen = false;
				this.#goroutine = newGoroutine(token, this.#lineNo);
				this.#target = "goroutine";
				if (crash.kind === "dump" && crash.message === null && crash.goroutineCount === 0) {
					crash.startLine = Math.min(crash.startLine, this.#lineNo);
				}
				break;
			}
			case "stack-unavailable":
				if (this.#goroutine === null)
					return this.#text("goroutine running on other thread; stack unavailable");
				this.#goroutine.stackUnavailable = true;
				break;
			case "ancestor": {
				if (this.#goroutine === null) return this.#text(this.#raw);
				this.#flushPending();
				this.#ancestor = { id: token.id, frames: [], createdBy: null };
				this.#goroutine.ancestors.push(this.#ancestor);
				this.#target = "ancestor";
				break;
			}
			case "elided":
				if (this.#goroutine === null || this.#target !== "goroutine") {
					return this.#text(this.#raw);
				}
				this.#flushPending();
				this.#goroutine.elided.push({ index: this.#goroutine.frames.length, count: token.count });
				break;
			case "created-by": {
				const owner =
					this.#target === "ancestor" || this.#target === "ancestor-created-by"
						? this.#ancestor
						: this.#goroutine;
				if (owner === null) return this.#text(this.#raw);
				this.#flushPending();
				const frame = newFrame(token.function, null);
				owner.createdBy = { frame, goroutine: token.goroutine };
				this.#target = owner === this.#goroutine ? "created-by" : "ancestor-created-by";
				this.#pending = frame;
				break;
			}
			case "register": {
				const crash = this.#crash;
				if (crash === null || (crash.goroutineCount === 0 && this.#goroutine === null))
					return this.#text(this.#raw);
				// The register dump follows the goroutines (runtime/signal_unix.go sighandler, dumpregs).
				this.#flushPending();
				this.#closeGoroutine();
				(this.#registers ?? crash.registers)[token.name] = token.value;
				this.#phase = "registers";
				break;
			}
			case "exit-status": {
				const crash = this.#crash;
				if (crash === null) return;
				this.#placed();
				crash.exitStatus = token.status;
				this.#closeCrash();
				return;
			}
			case "exit-signal": {
				const crash = this.#crash;
				if (crash === null) return;
				this.#placed();
				crash.exitSignal = token.signal;
				this.#closeCrash();
				return;
			}
			case "http-panic":
				this.#openCrash("http-panic", token.text);
				break;
			case "race-warning":
				this.#opening = true;
				this.#closeRace(true);
				this.#closeCrash();
				this.#opening = false;
				this.#race = {
					accesses: [],
					goroutines: [],
					location: null,
					truncated: false,
					startLine: this.#lineNo,
					endLine: this.#lineNo,
				};
				break;
			case "race-access":
			case "race-goroutine":
			case "race-location":
			case "race-failed-stack":
				return this.#text(this.#raw);
		}
		this.#placed();
	}

	/** Handles a token inside a race report; returns false when the token ends the report. */
	#raceToken(token: Token): boolean {
		const race = this.#race;
		if (race === null) return false;
		switch (token.kind) {
			case "race-access": {
				this.#flushPending();
				const access: RaceAccess = {
					kind: token.access,
					previous: token.previous,
					address: token.address,
					goroutine: token.goroutine,
					mainGoroutine: token.goroutine === null,
					frames: [],
					failedToRestore: false,
				};
				race.accesses.push(access);
				this.#raceSection = access;
				this.#target = "race";
				break;
			}
			case "race-goroutine": {
				this.#flushPending();
				const goroutine: RaceGoroutine = {
					id: token.id,
					status: token.status,
					frames: [],
					failedToRestore: false,
				};
				race.goroutines.push(goroutine);
				this.#raceSection = goroutine;
				this.#target = "race";
				break;
			}
			case "race-location":
				race.location = token.text;
				break;
			case "race-failed-stack":
				if (this.#raceSection === null) return false;
				this.#raceSection.failedToRestore = true;
				break;
			case "function":
				if (this.#raceSection === null) return false;
				this.#flushPending();
				this.#pending = newFrame(token.name, token.args);
				break;
			case "file":
				if (this.#pending === null) return false;
				this.#pending.file = token.file;
				this.#pending.line = token.line;
				this.#pending.offset = token.offset;
				this.#flushPending();
				break;
			case "race-warning":
				return false;
			default:
				// Anything else of a crash's (a panic, a goroutine) means the report was cut short.
				this.#closeRace(true);
				return false;
		}
		this.#placed();
		return true;
	}

	#inReason(): boolean {
		return (
			this.#crash !== null &&
			this.#crash.goroutineCount === 0 &&
			this.#goroutine === null &&
			this.#phase === "reason"
		);
	}

	/**
	 * After Windows' own crash header (runtime/signal_windows.go winthrow), the crashing
	 * goroutine's stack comes without a goroutine header: its first frame opens it, id unknown.
	 */
	#openHeaderless(): boolean {
		const crash = this.#crash;
		if (!this.#headerless || crash === null || !this.#inReason()) return false;
		this.#headerless = false;
		this.#goroutine = headerlessGoroutine(this.#lineNo);
		this.#phase = "goroutines";
		this.#target = "goroutine";
		return true;
	}

	#acceptsFrames(): boolean {
		if (this.#crash === null) return false;
		if (this.#target === "runtime-stack") return this.#phase === "runtime-stack";
		return this.#goroutine !== null;
	}

	#ensureCrash(): Crash {
		return this.#crash ?? this.#openCrash("dump", null);
	}

	#openCrash(kind: Crash["kind"], message: string | null): Crash {
		this.#opening = true;
		this.#closeRace(true);
		this.#closeCrash();
		this.#opening = false;
		const crash: Crash = {
			kind,
			message: message === null ? null : message.trim(),
			panics: [],
			fatal: null,
			signal: null,
			runtimeLines: [],
			panicDuringPanic: false,
			stackDumps: [],
			runtimeStack: [],
			registers: {},
			threads: [],
			goroutines: [],
			goroutineCount: 0,
			exitStatus: null,
			exitSignal: null,
			truncated: false,
			startLine: this.#lineNo,
			endLine: this.#lineNo,
		};
		// What goes with an open crash is as at the start: #closeCrash puts it back.
		this.#crash = crash;
		return crash;
	}

	#flushPending(): void {
		const frame = this.#pending;
		if (frame === null) return;
		this.#pending = null;
		switch (this.#target) {
			case "goroutine":
				this.#goroutine?.frames.push(frame);
				break;
			case "ancestor":
				this.#ancestor?.frames.push(frame);
				break;
			case "runtime-stack":
				this.#crash?.runtimeStack.push(frame);
				break;
			case "race":
				this.#raceSection?.frames.push(frame);
				break;
			case "created-by":
			case "ancestor-created-by":
				// The frame is already the `createdBy` frame; it stays there, file or not.
				break;
		}
	}

	#isCutShort(): boolean {
		const goroutine = this.#goroutine;
		if (this.#pending !== null && this.#pending.file === null) return true;
		return (
			goroutine !== null &&
			goroutine.frames.length === 0 &&
			!goroutine.stackUnavailable &&
			goroutine.createdBy === null
		);
	}

	#closeGoroutine(): void {
		const goroutine = this.#goroutine;
		const crash = this.#crash;
		if (goroutine === null || crash === null) return;
		this.#flushPending();
		this.#goroutine = null;
		this.#ancestor = null;
		this.#target = "goroutine";
		crash.goroutineCount++;
		if (this.#keep) crash.goroutines.push(goroutine);
		this.#handlers.goroutine?.(goroutine, crash);
	}

	#closeCrash(): void {
		const crash = this.#crash;
		if (crash === null) return;
		const cutShort = this.#isCutShort();
		this.#closeGoroutine();
		this.#crash = null;
		this.#reportHead = null;
		this.#unwinding = null;
		// Everything that went with the crash is put back as at the start, for the next crash, and
		// so that a `PC=` line after its end cannot change it.
		this.#signal = null;
		this.#registers = null;
		this.#threadDump = false;
		this.#headerless = false;
		this.#spacing = "off";
		this.#blanks = 0;
		this.#phase = "reason";
		this.#valueOpen = false;
		this.#target = "goroutine";
		this.#pending = null;
		this.#unknown = [];
		// Shapes of other output are learned again before the next crash (see ScanHandlers.sync).
		this.#lines.foreign.forget();
		if (!this.#opening) this.#lines.learned = null;
		const noStack = crash.goroutineCount === 0 && crash.runtimeStack.length === 0;
		if (noStack && crash.message === null && crash.stackDumps.length === 0) {
			// Only `runtime:` lines outside any crash: keep them as the crash they announce.
			if (crash.runtimeLines.length === 0 && !crash.panicDuringPanic) {
				// Nothing is kept, so neither are the lines skipped inside it.
				this.#interleaved = 0;
				return;
			}
		}
		inOrder(crash);
		this.#reportInterleaved(crash.endLine);
		crash.truncated =
			cutShort || (noStack && crash.exitStatus === null && crash.exitSignal === null);
		if (crash.truncated)
			this.#issue(
				"truncated",
				"crash text ends before its stack traces are complete",
				crash.endLine,
			);
		if (this.#keep) this.#crashes.push(crash);
		this.#handlers.crash?.(crash);
	}

	#reportInterleaved(line: number): void {
		if (this.#interleaved === 0) return;
		const count = this.#interleaved;
		this.#interleaved = 0;
		this.#issue(
			"interleaved-output",
			`${count} lines of other output inside crash text were skipped`,
			line,
		);
	}

	#closeRace(cutShort: boolean): void {
		const race = this.#race;
		if (race === null) return;
		this.#flushPending();
		this.#race = null;
		this.#raceSection = null;
		this.#target = "goroutine";
		this.#unknown = [];
		if (this.#crash === null) {
			this.#spacing = "off";
			this.#blanks = 0;
		}
		this.#lines.foreign.forget();
		if (!this.#opening) this.#lines.learned = null;
		inOrder(race);
		this.#reportInterleaved(race.endLine);
		race.truncated = cutShort;
		if (cutShort)
			this.#issue("truncated", "race report ends before its closing line", race.endLine);
		if (this.#keep) this.#races.push(race);
		this.#handlers.race?.(race);
	}
}

/** Puts a report's first and last line in order: a reversed one is read from its last line up (see #unreverse). */
function inOrder(report: { startLine: number; endLine: number }): void {
	if (report.startLine > report.endLine)
		[report.startLine, report.endLine] = [report.endLine, report.startLine];
}

/** A panic value's continuation line without the tab Go put before it, or the spaces instead. */
function valueLine(text: string): string {
	let i = 0;
	while (text.charCodeAt(i) === 0x20) i++;
	return text.charCodeAt(i) === 0x09 ? text.slice(i + 1) : text.slice(i).trimStart();
}

function clip(text: string): string {
	return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * Whether `rest` may be the part of a frame's line that a wrap put on the next line: it starts at
 * the margin, and `head` is a path cut short or a function line with its arguments open.
 */
function isWrapped(head: string, rest: string): boolean {
	const first = rest.charCodeAt(0);
	if (rest.length === 0 || first === 0x09 || first === 0x20) return false;
	const start = head.trimStart();
	if (start.startsWith("/") || /^[A-Za-z]:[\\/]/.test(start)) return true;
	return start.lastIndexOf("(") > start.lastIndexOf(")");
}

/** Whether the runtime line before stack words is a zombie's line or its words so far. */
function isZombieDump(last: string | undefined): boolean {
	if (last === undefined) return false;
	return last.endsWith(" zombie") || (last.startsWith("0x") && last.includes(":  0x"));
}

/** What a report logged after the same text as the open one's may start with. */
const REPORT_STARTS = new Set<Token["kind"]>(["goroutine", "panic", "fatal", "signal-header"]);

/** A goroutine header at the end of a reason's line. */
const gluedHeader =
	/ goroutine \d{1,19} (?:gp=0x[0-9a-f]{1,16} m=\S{1,20} (?:mp=0x[0-9a-f]{1,16} )?)?\[[^\]]{1,200}\]:$/;

/** How many spaces and tabs a line starts with. */
function indentation(text: string): number {
	let n = 0;
	while (text.charCodeAt(n) === 0x20 || text.charCodeAt(n) === 0x09) n++;
	return n;
}
