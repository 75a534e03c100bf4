/**
 * One call frame of a goroutine, race report or `runtime stack:` as Go printed it. In frames the
 * parser returns, `package` and `receiver` are getters, worked out from the name when first
 * read: a copy made by spreading (`{...frame}`) lacks them, one made with `JSON.stringify` has them.
 */
export interface Frame {
	/** Full function name as printed, e.g. `main.(*Server).handle.func1`. */
	readonly function: string;
	/** Import path of the function's package, e.g. `net/http`; URL escapes (`%2e`) decoded. */
	readonly package: string;
	/** Method receiver type without parentheses, e.g. `*Server`; null for plain functions. */
	readonly receiver: string | null;
	/** Argument list as written between the parentheses; null when the line had none. */
	args: string | null;
	/** True for inlined frames, which Go prints with `(...)` as their argument list. */
	inlined: boolean;
	file: string | null;
	line: number | null;
	/** The `+0x` offset of the pc from the function entry. */
	offset: number | null;
	fp: string | null;
	sp: string | null;
	pc: string | null;
}

/** Frames left out of a long stack: where in `frames` they were and how many. */
export interface Elision {
	/** Index in `frames` before which the frames were elided. */
	index: number;
	/** Number of frames elided; null for Go ≤1.20's `...additional frames elided...`. */
	count: number | null;
}

/** The `created by` line of a goroutine. */
export interface CreatedBy {
	frame: Frame;
	/** Id of the goroutine that started this one (Go 1.21+ `in goroutine N`); null if not printed. */
	goroutine: number | null;
}

/** A `[originating from goroutine N]:` block printed with GODEBUG=tracebackancestors. */
export interface Ancestor {
	id: number;
	frames: Frame[];
	createdBy: CreatedBy | null;
}

/** One goroutine of a crash or dump. */
export interface Goroutine {
	/**
	 * Null where Go printed none: the goroutine a Windows exception stopped, whose stack
	 * runtime/signal_windows.go winthrow prints without a header.
	 */
	id: number | null;
	/** Wait state without its extras, e.g. `chan receive`, `running`, `GC worker (idle)`. */
	state: string;
	/** The state text exactly as printed between the brackets. */
	stateText: string;
	scan: boolean;
	waitMinutes: number | null;
	lockedToThread: boolean;
	gp: string | null;
	m: string | null;
	mp: string | null;
	frames: Frame[];
	elided: Elision[];
	stackUnavailable: boolean;
	createdBy: CreatedBy | null;
	ancestors: Ancestor[];
	/** Input line number (1-based) of the goroutine header. */
	line: number;
}

/** One value of a panic chain: `panic: A [recovered]` then `panic: B`. */
export interface PanicValue {
	value: string;
	recovered: boolean;
	repanicked: boolean;
}

/** The signal that killed the program, from `[signal …]` or the `SIGxxx:` + `PC=` header form. */
export interface Signal {
	name: string;
	description: string;
	code: string | null;
	addr: string | null;
	pc: string | null;
	/** The `m=` number from the `PC=` header line. */
	m: number | null;
	/** True when Go printed `signal arrived during cgo execution`. */
	duringCgo: boolean;
	/**
	 * The bytes at the pc, as Go prints them for SIGILL and SIGFPE (`0x0 0x1f …`;
	 * runtime/signal_unix.go fatalsignal); null when not printed.
	 */
	instructionBytes: string | null;
}

/** A signal as Go names it: `SIGSEGV: segmentation violation`, or its number alone (`0x7`). */
export function signalTitle(signal: Pick<Signal, "name" | "description">): string {
	return signal.description === "" ? signal.name : `${signal.name}: ${signal.description}`;
}

/**
 * Another thread's part of the same crash: with GOTRACEBACK=crash the crashing thread sends
 * SIGQUIT to every other M, and each prints `-----`, its signal header, its goroutine and its
 * registers (runtime/signal_unix.go sighandler). Its goroutines are in the crash's `goroutines`.
 */
export interface ThreadDump {
	signal: Signal;
	registers: Record<string, string>;
}

/** An `unexpected return pc` stack-word dump: the frame bounds and each word with its marks. */
export interface StackDump {
	header: string;
	words: StackWord[];
}

/** One word of a stack dump; `marker` is `<` (sp), `!` (bad word) or `>` (fp) when printed. */
export interface StackWord {
	address: string;
	value: string;
	marker: string | null;
	symbol: string | null;
}

/** What the crash was: a panic, a runtime fatal error, a signal, a logged panic, or a plain dump. */
export type CrashKind = "panic" | "fatal" | "signal" | "http-panic" | "dump";

/** One crash or goroutine dump found in the input. */
export interface Crash {
	kind: CrashKind;
	/** The line stating the reason as the program printed it, without any log-pipeline prefix. */
	message: string | null;
	panics: PanicValue[];
	fatal: string | null;
	signal: Signal | null;
	/** `runtime: …` diagnostic lines (including `runtime: note: …`), as printed. */
	runtimeLines: string[];
	panicDuringPanic: boolean;
	stackDumps: StackDump[];
	runtimeStack: Frame[];
	/** Register dump (GOTRACEBACK=crash): name to hex value, in printed order. */
	registers: Record<string, string>;
	/** The other threads' dumps that followed `-----` lines. */
	threads: ThreadDump[];
	goroutines: Goroutine[];
	/** Number of goroutines read; equals `goroutines.length` unless goroutines were streamed out. */
	goroutineCount: number;
	exitStatus: number | null;
	/** The signal that ended the process as `go run` reports it, e.g. `aborted (core dumped)`. */
	exitSignal: string | null;
	/** True when the input ended before the crash text was complete. */
	truncated: boolean;
	/** Input line numbers (1-based, inclusive) where the crash starts and ends. */
	startLine: number;
	endLine: number;
}

/** One memory access of a race report. */
export interface RaceAccess {
	/** `read`, `write`, `atomic read`, … as printed, lower-cased. */
	kind: string;
	previous: boolean;
	/** Null where the race runtime printed none (Go 1.6's: `Write by goroutine 96:`). */
	address: string | null;
	/** Goroutine id; null when the access was by the main goroutine. */
	goroutine: number | null;
	mainGoroutine: boolean;
	frames: Frame[];
	failedToRestore: boolean;
}

/** An access as a race report heads it: `previous write at 0xc000012345 by goroutine 7`. */
export function raceAccessTitle(access: RaceAccess): string {
	const who = access.mainGoroutine ? "main goroutine" : `goroutine ${access.goroutine ?? "?"}`;
	const at = access.address === null ? "" : ` at ${access.address}`;
	return `${access.previous ? "previous " : ""}${access.kind}${at} by ${who}`;
}

/** The creation stack of a goroutine named in a race report. */
export interface RaceGoroutine {
	id: number;
	status: string;
	frames: Frame[];
	failedToRestore: boolean;
}

/** One `WARNING: DATA RACE` report of the race detector. */
export interface RaceReport {
	accesses: RaceAccess[];
	goroutines: RaceGoroutine[];
	/** The `Location is …` line, e.g. `Location is global 'counter' of size 8 at 0x… (app+0x…)`. */
	location: string | null;
	truncated: boolean;
	startLine: number;
	endLine: number;
}

/** Something in the input that could not be placed; the parse goes on. */
export interface ParseIssue {
	code:
		| "unplaced-line"
		| "interleaved-output"
		| "truncated"
		| "long-line"
		| "bad-prefix"
		| "reversed-lines"
		| "stack-without-header";
	line: number;
	message: string;
}

/** Everything found in one input. */
export interface ParseResult {
	crashes: Crash[];
	races: RaceReport[];
	/** `Found N data race(s)` when printed. */
	raceCount: number | null;
	issues: ParseIssue[];
	lines: number;
}

/** How a goroutine is named in messages: `goroutine 7`, or the one Go printed no id for. */
export function goroutineName(goroutine: Pick<Goroutine, "id">): string {
	return goroutine.id === null
		? "the crashing goroutine (no id printed)"
		: `goroutine ${goroutine.id}`;
}
