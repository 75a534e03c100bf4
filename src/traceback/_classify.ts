// Classifies one line of crash text (log prefix already removed) by what Go printed it for.
// Leading whitespace is ignored so that text whose indentation was lost or turned into spaces
// still classifies; every check is a prefix test or an anchored linear-time pattern.

/** A classified line; `kind` says what it is, the other fields carry what was read from it. */
export type Token =
	| { kind: "blank" }
	| { kind: "panic"; value: string; recovered: boolean; repanicked: boolean }
	| { kind: "fatal"; message: string }
	| {
			kind: "signal";
			name: string;
			description: string;
			code: string | null;
			addr: string | null;
			pc: string | null;
			/** True for Windows' own header, after which the crashing stack has no header of its own. */
			headerless: boolean;
	  }
	| { kind: "signal-header"; name: string; description: string }
	| { kind: "pc-header"; pc: string; m: number | null; code: string | null; addr: string | null }
	| { kind: "cgo-signal" }
	| { kind: "instruction-bytes"; bytes: string }
	| { kind: "runtime"; text: string }
	| { kind: "runtime-stack" }
	| { kind: "panic-during-panic" }
	| { kind: "stack-bounds"; text: string }
	| { kind: "stack-words"; address: string; rest: string }
	| {
			kind: "goroutine";
			id: number;
			stateText: string;
			gp: string | null;
			m: string | null;
			mp: string | null;
	  }
	| { kind: "stack-unavailable" }
	| { kind: "ancestor"; id: number }
	| { kind: "elided"; count: number | null }
	| { kind: "created-by"; function: string; goroutine: number | null }
	| { kind: "function"; name: string; args: string }
	| {
			kind: "file";
			file: string;
			line: number;
			offset: number | null;
			fp: string | null;
			sp: string | null;
			pc: string | null;
			/** True when the line was cut inside its ` fp=… sp=… pc=…` part, which is left out. */
			cut: boolean;
	  }
	| { kind: "register"; name: string; value: string }
	| { kind: "exit-status"; status: number }
	| { kind: "exit-signal"; signal: string }
	| { kind: "race-separator" }
	| { kind: "thread-separator" }
	| { kind: "race-warning" }
	| {
			kind: "race-access";
			access: string;
			previous: boolean;
			address: string | null;
			goroutine: number | null;
	  }
	| { kind: "race-goroutine"; id: number; status: string }
	| { kind: "race-location"; text: string }
	| { kind: "race-failed-stack" }
	| { kind: "race-found"; count: number }
	| { kind: "http-panic"; text: string }
	| { kind: "text"; text: string };

const signalLine =
	/^\[signal (SIG[A-Z0-9]+): ([^\]]*?) code=(\S+) addr=(\S+) pc=(\S+)\]$|^\[signal (SIG[A-Z0-9]+): ([^\]]*)\]$/;
// Old releases (Go 1.4, say) printed the signal's number, and later ones print it for a signal
// without a name (runtime dopanic_m: `print("[signal ", hex(gp.sig))`), which on Windows is every
// one: the exception code (`[signal 0xc0000005 code=0x0 addr=0x0 pc=…]`).
const numberedSignalLine = /^\[signal (0x[0-9a-f]{1,8}) code=(\S+) addr=(\S+) pc=(\S+)\]$/;
/**
 * Signals whose number is the same on Linux, macOS and the BSDs, with Go's descriptions, and the
 * Windows exceptions Go's sigpanic handles, by their Windows names (runtime/defs_windows.go).
 */
const NUMBERED_SIGNALS = new Map<string, readonly [string, string]>([
	["0x4", ["SIGILL", "illegal instruction"]],
	["0x5", ["SIGTRAP", "trace trap"]],
	["0x6", ["SIGABRT", "abort"]],
	["0x8", ["SIGFPE", "floating-point exception"]],
	["0xb", ["SIGSEGV", "segmentation violation"]],
	["0xc0000005", ["EXCEPTION_ACCESS_VIOLATION", ""]],
	["0xc0000006", ["EXCEPTION_IN_PAGE_ERROR", ""]],
	["0xc000008e", ["EXCEPTION_FLT_DIVIDE_BY_ZERO", ""]],
	["0xc0000094", ["EXCEPTION_INT_DIVIDE_BY_ZERO", ""]],
	["0xc0000095", ["EXCEPTION_INT_OVERFLOW", ""]],
]);
const signalHeader = /^(SIG[A-Z0-9]{2,10}): ([a-z][^:]*)$/;
// On Windows (runtime/signal_windows.go winthrow) `PC=` stands alone on its line; Go 1.5 printed
// no `sigcode=` (`PC=0x7ffd07d7ac99 m=5`, golang/go#13735).
const pcHeader = /^PC=(0x[0-9a-f]+)(?:$| m=(\d+)(?:$| sigcode=(\S+)(?: addr=(0x[0-9a-f]+))?))/;
// runtime/signal_unix.go fatalsignal, for SIGILL and SIGFPE: up to 16 bytes at the pc.
const instructionBytes = /^instruction bytes:((?: 0x[0-9a-f]{1,2}){0,16})$/;
// runtime/signal_windows.go winthrow: the exception code, its first two parameters (for an access
// violation: read 0, write 1 or execute 8, and the address) and the pc.
const windowsException = /^Exception (0x[0-9a-f]{1,8}) (0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+)$/;
const raceAccess =
	/^(Previous )?((?:[Aa]tomic )?(?:[Rr]ead|[Ww]rite))(?: at (0x[0-9a-f]+))? by (?:goroutine (\d+)|(main goroutine)):$/;
const raceGoroutine = /^Goroutine (\d+) \(([a-z ]+)\) created at:$/;
const registerLine = /^([a-z][a-z0-9]{0,6})\s+(0x[0-9a-f]+)$/;
const elidedCount = /^\.\.\.(\d+) frames elided\.\.\.$/;
const ancestorLine = /^\[originating from goroutine (\d+)\]:$/;
const httpPanic = /^(?:\S+ )?http(?:2)?: panic serving /;
const hexDigits = /^[0-9a-f]+$/;
// What the runtime writes itself, not through throw, where it cannot throw (runtime/stubs.go
// badsystemstack, runtime/proc.go badmorestackg0 and the others) before it aborts.
const runtimeFatal =
	/^fatal: (morestack on g0|morestack on gsignal|systemstack called from unexpected goroutine|bad g in signal handler|(?:recursive|concurrent) switchToCrashStack)$/;
/**
 * How Kubernetes' HandleCrash logs a panic through klog's structured logging (k8s.io/apimachinery
 * util/runtime logPanic): the value quoted, then `panicGoValue=` and the stack as `stacktrace=<`
 * with its lines indented below.
 */
export const KLOG_PANIC = '"Observed a panic" panic="';

/** The Go-quoted string whose text starts at `at` (after its opening quote), unquoted; or null. */
function quotedValue(text: string, at: number): string | null {
	let end = at;
	while (end < text.length && text.charCodeAt(end) !== 0x22)
		end += text.charCodeAt(end) === 0x5c ? 2 : 1;
	if (end >= text.length) return null;
	try {
		return JSON.parse(`"${text.slice(at, end)}"`) as string;
	} catch {
		return text.slice(at, end);
	}
}

/** badsystemstack's message, which has no newline: the abort's signal line follows on its line. */
export const BAD_SYSTEMSTACK = "fatal: systemstack called from unexpected goroutine";
// What the runtime prints about a heap object before it throws: runtime/mgcmark.go gcDumpObject
// (`object=0x… s.base()=0x…`, then ` *(object+8) = 0x… <==` for each word, the bad one marked)
// and runtime/mgcsweep.go reportZombies (`0x… alloc marked  `, `0x… free  marked   zombie`).
const objectWord = /^\*\([a-z]{1,16}\+\d{1,10}\) = 0x[0-9a-f]{1,16}(?: <==)?$/;
const zombieObject = /^0x[0-9a-f]{1,16} (?:alloc|free ) (?:marked|unmarked)(?: +zombie)? *$/;
const whitespace = /\s/;
/** A character that never appears in a function name as Go prints it. */
const functionNameStop = /[ \t:,]/;

/** Classifies one line of crash text. */
export function classifyLine(raw: string): Token {
	// The commonest line of all, a frame's `\t/path/file.go:123 +0x1d`, is read in place.
	if (
		raw.charCodeAt(0) === 0x09 &&
		raw.charCodeAt(1) === 0x2f /* / */ &&
		!isSpace(raw.charCodeAt(raw.length - 1))
	) {
		const file = classifyFile(raw, 1);
		if (file !== null) return file;
	}
	const text = trimStart(raw);
	if (text.length === 0) return BLANK;
	const c = text.charCodeAt(0);
	switch (c) {
		case 0x67 /* g */:
			if (text.startsWith("goroutine ")) return classifyGoroutine(text);
			break;
		case 0x70 /* p */:
			if (text.startsWith("panic: ")) return classifyPanic(text.slice(7));
			// panic("") prints `panic: `, whose trailing space is trimmed here.
			if (text === "panic:") return classifyPanic("");
			if (text === "panic during panic") return PANIC_DURING_PANIC;
			break;
		case 0x66 /* f */:
			if (text.startsWith("fatal error: ")) return { kind: "fatal", message: text.slice(13) };
			if (text.startsWith("fatal: ")) {
				const m = runtimeFatal.exec(text);
				if (m !== null) return { kind: "fatal", message: m[1] ?? "" };
			}
			break;
		case 0x72 /* r */:
			if (text.startsWith("runtime: ")) return { kind: "runtime", text };
			if (text === "runtime stack:") return RUNTIME_STACK;
			break;
		case 0x5b /* [ */:
			return classifyBracket(text);
		case 0x22 /* " */:
			if (text.startsWith(KLOG_PANIC)) {
				const value = quotedValue(text, KLOG_PANIC.length);
				if (value !== null) return { kind: "panic", value, recovered: false, repanicked: false };
			}
			break;
		case 0x53 /* S */:
			if (text.startsWith("SIG")) {
				const m = signalHeader.exec(text);
				if (m !== null) return { kind: "signal-header", name: m[1] ?? "", description: m[2] ?? "" };
			}
			break;
		case 0x50 /* P */:
			if (text.startsWith("PC=")) {
				const m = pcHeader.exec(text);
				if (m !== null) {
					return {
						kind: "pc-header",
						pc: m[1] ?? "",
						m: m[2] === undefined ? null : Number(m[2]),
						code: m[3] ?? null,
						addr: m[4] ?? null,
					};
				}
			}
			if (text.startsWith("Previous ")) return classifyRaceAccess(text);
			break;
		case 0x2e /* . */:
			if (text === "...additional frames elided...") return { kind: "elided", count: null };
			if (text.startsWith("...")) {
				const m = elidedCount.exec(text);
				if (m !== null) return { kind: "elided", count: Number(m[1]) };
			}
			break;
		case 0x63 /* c */:
			if (text.startsWith("created by ")) {
				const created = classifyCreatedBy(text);
				if (created !== null) return created;
			}
			break;
		case 0x65 /* e */:
			if (text.startsWith("exit status ")) {
				const status = Number(text.slice(12));
				if (Number.isInteger(status)) return { kind: "exit-status", status };
			}
			break;
		case 0x2d /* - */:
			if (text === "-----") return THREAD_SEPARATOR;
			break;
		case 0x3d /* = */:
			if (text === "==================") return RACE_SEPARATOR;
			break;
		case 0x45 /* E */:
			if (text.startsWith("Exception 0x")) {
				const m = windowsException.exec(text);
				if (m !== null)
					return numberedSignal(m[1] ?? "", m[2] ?? null, m[3] ?? null, m[4] ?? null, true);
			}
			break;
		case 0x57 /* W */:
			if (text === "WARNING: DATA RACE") return RACE_WARNING;
			// Older race runtimes (Go 1.6's) print no address: `Write by goroutine 96:`.
			if (text.startsWith("Write at ") || text.startsWith("Write by "))
				return classifyRaceAccess(text);
			break;
		case 0x52 /* R */:
			if (text.startsWith("Read at ") || text.startsWith("Read by "))
				return classifyRaceAccess(text);
			break;
		case 0x41 /* A */:
			if (text.startsWith("Atomic ")) return classifyRaceAccess(text);
			break;
		case 0x47 /* G */:
			if (text.startsWith("Goroutine ")) {
				const m = raceGoroutine.exec(text);
				if (m !== null) return { kind: "race-goroutine", id: Number(m[1]), status: m[2] ?? "" };
			}
			break;
		case 0x4c /* L */:
			if (text.startsWith("Location is ")) return { kind: "race-location", text };
			break;
		case 0x46 /* F */:
			if (text.startsWith("Found ") && text.endsWith(" data race(s)")) {
				const count = Number(text.slice(6, -13));
				if (Number.isInteger(count)) return { kind: "race-found", count };
			}
			break;
		case 0x69 /* i */:
			if (text.startsWith("instruction bytes:")) {
				const m = instructionBytes.exec(text);
				if (m !== null) return { kind: "instruction-bytes", bytes: (m[1] ?? "").trim() };
			}
			break;
		case 0x75 /* u */:
			// runtime/signal_unix.go sigpanic prints this just before `fatal error: fault`.
			if (text.startsWith("unexpected fault address ")) return { kind: "runtime", text };
			break;
		case 0x73 /* s */:
			if (text.startsWith("stack: frame=")) return { kind: "stack-bounds", text };
			// os/exec's ExitError text, as `go run` and `go test` print it.
			if (text.startsWith("signal: ")) return { kind: "exit-signal", signal: text.slice(8) };
			// Windows says `external code` since Go 1.13 (runtime/signal_windows.go).
			if (
				text === "signal arrived during cgo execution" ||
				text === "signal arrived during external code execution"
			)
				return CGO_SIGNAL;
			break;
		case 0x30 /* 0 */:
			if (text.startsWith("0x")) {
				const words = classifyStackWords(text);
				if (words !== null) return words;
				if (zombieObject.test(text)) return { kind: "runtime", text };
			}
			break;
		case 0x6f /* o */:
			if (text.startsWith("object=0x") && text.includes(" s.base()=0x"))
				return { kind: "runtime", text };
			break;
		case 0x2a /* * */:
			if (text.startsWith("*(") && objectWord.test(text)) return { kind: "runtime", text };
			break;
	}
	if (text.endsWith(")")) {
		const fn = classifyFunction(text);
		if (fn !== null) return fn;
	}
	const file = classifyFile(text, 0) ?? classifyCutFile(text);
	if (file !== null) return file;
	if (text.length <= 32) {
		const m = registerLine.exec(text);
		if (m !== null) return { kind: "register", name: m[1] ?? "", value: m[2] ?? "" };
	}
	if (text.includes("panic serving ") && httpPanic.test(text)) return { kind: "http-panic", text };
	return { kind: "text", text: raw };
}

/** True when the line (log prefix removed) states the reason of a crash or opens a race report. */
export function opensReport(line: string): boolean {
	const kind = classifyLine(line).kind;
	return (
		kind === "panic" || kind === "fatal" || kind === "signal-header" || kind === "race-warning"
	);
}

const BLANK: Token = { kind: "blank" };
const PANIC_DURING_PANIC: Token = { kind: "panic-during-panic" };
const RUNTIME_STACK: Token = { kind: "runtime-stack" };
const RACE_SEPARATOR: Token = { kind: "race-separator" };
const THREAD_SEPARATOR: Token = { kind: "thread-separator" };
const RACE_WARNING: Token = { kind: "race-warning" };
const CGO_SIGNAL: Token = { kind: "cgo-signal" };
const STACK_UNAVAILABLE: Token = { kind: "stack-unavailable" };
const RACE_FAILED: Token = { kind: "race-failed-stack" };

function isSpace(c: number): boolean {
	return c === 0x20 || c === 0x09 || c === 0x0d;
}

function trimStart(text: string): string {
	let i = 0;
	while (i < text.length) {
		const c = text.charCodeAt(i);
		if (c !== 0x20 && c !== 0x09) break;
		i++;
	}
	let end = text.length;
	while (end > i) {
		const c = text.charCodeAt(end - 1);
		if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
		end--;
	}
	return i === 0 && end === text.length ? text : text.slice(i, end);
}

function classifyPanic(rest: string): Token {
	let value = rest;
	let recovered = false;
	let repanicked = false;
	if (value.endsWith(" [recovered, repanicked]")) {
		value = value.slice(0, -24);
		recovered = true;
		repanicked = true;
	} else if (value.endsWith(" [recovered]")) {
		value = value.slice(0, -12);
		recovered = true;
	}
	return { kind: "panic", value, recovered, repanicked };
}

// `goroutine 7 gp=0xc000102380 m=nil [chan receive, 5 minutes]:` (runtime/traceback.go
// goroutineheader; gp=, m= and mp= are printed with GOTRACEBACK=system and above), read by hand:
// it is the third commonest line.
function classifyGoroutine(text: string): Token {
	if (text === "goroutine running on other thread; stack unavailable") return STACK_UNAVAILABLE;
	const end = text.length - 2;
	let i = 10;
	while (isDigit(text.charCodeAt(i))) i++;
	if (i === 10 || !text.endsWith("]:")) return { kind: "text", text };
	const id = Number(text.slice(10, i));
	let gp: string | null = null;
	let m: string | null = null;
	let mp: string | null = null;
	// ` key=value` pairs, each value up to the next space.
	while (text.charCodeAt(i) === 0x20 && isLower(text.charCodeAt(i + 1))) {
		let eq = i + 2;
		while (isLower(text.charCodeAt(eq))) eq++;
		if (text.charCodeAt(eq) !== 0x3d /* = */) return { kind: "text", text };
		let next = eq + 1;
		while (next < text.length && !isWhitespace(text.charCodeAt(next))) next++;
		if (next === eq + 1) return { kind: "text", text };
		const key = text.slice(i + 1, eq);
		const value = text.slice(eq + 1, next);
		if (key === "gp") gp = value;
		else if (key === "m") m = value;
		else if (key === "mp") mp = value;
		i = next;
	}
	if (i > end - 2 || text.charCodeAt(i) !== 0x20 || text.charCodeAt(i + 1) !== 0x5b /* [ */)
		return { kind: "text", text };
	return { kind: "goroutine", id, stateText: text.slice(i + 2, end), gp, m, mp };
}

/** True for an ASCII digit. */
export function isDigit(c: number): boolean {
	return c >= 0x30 && c <= 0x39;
}

function isLower(c: number): boolean {
	return c >= 0x61 && c <= 0x7a;
}

// `created by main.start in goroutine 6`; Go ≤1.20 prints no parent (runtime/traceback.go
// printcreatedby).
function classifyCreatedBy(text: string): Token | null {
	let i = 11;
	while (i < text.length && !isWhitespace(text.charCodeAt(i))) i++;
	if (i === 11) return null;
	const name = text.slice(11, i);
	if (i === text.length) return { kind: "created-by", function: name, goroutine: null };
	if (!text.startsWith(" in goroutine ", i)) return null;
	const digits = i + 14;
	for (i = digits; i < text.length; i++) if (!isDigit(text.charCodeAt(i))) return null;
	if (digits === text.length) return null;
	return { kind: "created-by", function: name, goroutine: Number(text.slice(digits)) };
}

/** What `\s` matches. */
function isWhitespace(c: number): boolean {
	if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
	return c === 0xa0 || (c > 0xff && whitespace.test(String.fromCharCode(c)));
}

function classifyBracket(text: string): Token {
	if (text.startsWith("[signal ")) {
		const m = signalLine.exec(text);
		if (m !== null) {
			if (m[1] !== undefined) {
				return {
					kind: "signal",
					name: m[1],
					description: m[2] ?? "",
					code: m[3] ?? null,
					addr: m[4] ?? null,
					pc: m[5] ?? null,
					headerless: false,
				};
			}
			return {
				kind: "signal",
				name: m[6] ?? "",
				description: m[7] ?? "",
				code: null,
				addr: null,
				pc: null,
				headerless: false,
			};
		}
		const numbered = numberedSignalLine.exec(text);
		if (numbered !== null)
			return numberedSignal(
				numbered[1] ?? "",
				numbered[2] ?? null,
				numbered[3] ?? null,
				numbered[4] ?? null,
				false,
			);
	}
	if (text.startsWith("[originating from goroutine ")) {
		const m = ancestorLine.exec(text);
		if (m !== null) return { kind: "ancestor", id: Number(m[1]) };
	}
	if (text === "[failed to restore the stack]") return RACE_FAILED;
	return { kind: "text", text };
}

/** A signal Go printed by its number, or a Windows exception by its code, named where known. */
function numberedSignal(
	number: string,
	code: string | null,
	addr: string | null,
	pc: string | null,
	headerless: boolean,
): Token {
	const [name, description] = NUMBERED_SIGNALS.get(number) ?? [number, ""];
	return { kind: "signal", name, description, code, addr, pc, headerless };
}

function classifyRaceAccess(text: string): Token {
	const m = raceAccess.exec(text);
	if (m === null) return { kind: "text", text };
	return {
		kind: "race-access",
		access: (m[2] ?? "").toLowerCase(),
		previous: m[1] !== undefined,
		address: m[3] ?? null,
		goroutine: m[4] === undefined ? null : Number(m[4]),
	};
}

function classifyStackWords(text: string): Token | null {
	const colon = text.indexOf(": ");
	if (colon < 3 || !hexDigits.test(text.slice(2, colon))) return null;
	return { kind: "stack-words", address: text.slice(0, colon), rest: text.slice(colon + 2) };
}

// A function line is `name(args)`: args never contain parentheses, so the last `(` opens them,
// while the name may (`main.(*T).M`). See runtime/traceback.go printFuncName and printArgs.
function classifyFunction(text: string): Token | null {
	const open = text.lastIndexOf("(");
	if (open <= 0) return null;
	const name = text.slice(0, open);
	if (!isFunctionName(name)) return null;
	return { kind: "function", name, args: text.slice(open + 1, -1) };
}

function isFunctionName(name: string): boolean {
	const first = name.charCodeAt(0);
	// Names start with a letter, `_`, or a non-ASCII letter; C frames in cgo tracebacks may too.
	if (!(first >= 0x61 || (first >= 0x41 && first <= 0x5a) || first === 0x5f)) return false;
	return !functionNameStop.test(name);
}

// A file line is `path:line`, then optionally ` +0xOFF`, then ` fp=… sp=… pc=…`
// (runtime/traceback.go printFuncName's caller; older releases, Go 1.7's say, printed ` fp=… sp=…`
// alone). The most common line of all: read backwards from its end, since the path may hold
// spaces and anything else.
// A console or a pager wrapped the line, or a paste ends, inside ` fp=… sp=… pc=…`: the frame's
// file line up to there, its pointers left out.
function classifyCutFile(text: string): Token | null {
	const pointers = text.indexOf(" fp=");
	if (pointers < 0 || !isCutPointers(text, pointers)) return null;
	const before = classifyFile(text.slice(0, pointers), 0);
	if (before === null || before.kind !== "file") return null;
	before.cut = true;
	return before;
}

const POINTERS = [" fp=0x", " sp=0x", " pc=0x"];

/** True when `text` from `at` to its end is ` fp=0x… sp=0x… pc=0x…` cut somewhere. */
function isCutPointers(text: string, at: number): boolean {
	let i = at;
	for (const literal of POINTERS) {
		for (let k = 0; k < literal.length; k++, i++) {
			if (i === text.length) return true;
			if (text.charCodeAt(i) !== literal.charCodeAt(k)) return false;
		}
		while (i < text.length && hexValue(text.charCodeAt(i)) >= 0) i++;
		if (i === text.length) return true;
	}
	return false;
}

function classifyFile(text: string, start: number): Token | null {
	let end = text.length;
	let fp: string | null = null;
	let sp: string | null = null;
	let pc: string | null = null;
	let space = text.lastIndexOf(" ", end - 1);
	if (space > start && text.startsWith("pc=", space + 1)) {
		const spAt = text.lastIndexOf(" ", space - 1);
		const fpAt = spAt > start ? text.lastIndexOf(" ", spAt - 1) : -1;
		if (fpAt <= start || !text.startsWith("sp=", spAt + 1) || !text.startsWith("fp=", fpAt + 1))
			return null;
		fp = text.slice(fpAt + 4, spAt);
		sp = text.slice(spAt + 4, space);
		pc = text.slice(space + 4);
		end = fpAt;
		space = text.lastIndexOf(" ", end - 1);
	} else if (space > start && text.startsWith("sp=", space + 1)) {
		const fpAt = text.lastIndexOf(" ", space - 1);
		if (fpAt <= start || !text.startsWith("fp=", fpAt + 1)) return null;
		fp = text.slice(fpAt + 4, space);
		sp = text.slice(space + 4);
		end = fpAt;
		space = text.lastIndexOf(" ", end - 1);
	}
	let offset: number | null = null;
	if (space > start && text.startsWith("+0x", space + 1)) {
		const digits = end - space - 4;
		if (digits < 1 || digits > 16) return null;
		let value = 0;
		for (let i = space + 4; i < end; i++) {
			const digit = hexValue(text.charCodeAt(i));
			if (digit < 0) return null;
			value = value * 16 + digit;
		}
		offset = value;
		end = space;
	}
	let digits = end;
	let line = 0;
	let scale = 1;
	while (digits > start) {
		const c = text.charCodeAt(digits - 1);
		if (c < 0x30 || c > 0x39) break;
		line += (c - 0x30) * scale;
		scale *= 10;
		digits--;
	}
	if (
		digits === end ||
		end - digits > 10 ||
		digits < start + 2 ||
		text.charCodeAt(digits - 1) !== 0x3a
	) {
		return null;
	}
	const file = text.slice(start, digits - 1);
	if (!isFilePath(file)) return null;
	return { kind: "file", file, line, offset, fp, sp, pc, cut: false };
}

function hexValue(c: number): number {
	if (c >= 0x30 && c <= 0x39) return c - 0x30;
	if (c >= 0x61 && c <= 0x66) return c - 0x57;
	return -1;
}

function isFilePath(file: string): boolean {
	if (file.charCodeAt(0) === 0x2f /* / */) return true;
	if (file === "?" || file === "??" || file === "<autogenerated>") return true;
	if (file.includes(" ") && !file.includes("/") && !file.includes("\\")) return false;
	return (
		file.startsWith("/") ||
		file.includes("/") ||
		file.includes("\\") ||
		file.endsWith(".go") ||
		file.endsWith(".s") ||
		file.endsWith(".c")
	);
}

// Words a report starts with, looked for anywhere in a line that something else stood on first:
// a shell prompt, a terminal's echo of `^\`, a benchmark name `go test` printed without its
// newline, a log message.
const reportMark =
	/panic: |fatal error: |SIG[A-Z0-9]{2,10}: |goroutine \d|runtime: |unexpected fault address |http2?: panic serving |WARNING: DATA RACE|"Observed a panic" panic="/g;
// What follows a report's first lines and only a report's: a goroutine header, the signal's `PC=`
// or `[signal` line, `runtime stack:`.
const evidenceMark = /goroutine \d|PC=0x|\[signal SIG|runtime stack:/g;

/** Where a report starts inside `line` after other text, or -1; `at` ≥ 1 when found. */
export function findReportStart(line: string): number {
	return findToken(line, reportMark, isOpening);
}

/** Where a line that only a report has (see {@link isEvidence}) starts inside `line`, or -1. */
export function findEvidenceStart(line: string): number {
	return findToken(line, evidenceMark, isEvidence);
}

/**
 * True when a token opens a report: a reason, `runtime:` lines, a goroutine header, a logged
 * HTTP panic, a race report.
 */
export function isOpening(token: Token): boolean {
	switch (token.kind) {
		case "panic":
		case "fatal":
		case "signal-header":
		case "goroutine":
		case "http-panic":
		case "race-warning":
			return true;
		case "runtime":
			return true;
		default:
			return false;
	}
}

/**
 * True when a token is a line only the runtime's crash report prints, or the exit line that
 * `go run` and `go test` print when the process has died of it.
 */
export function isEvidence(token: Token): boolean {
	switch (token.kind) {
		case "goroutine":
		case "signal":
		case "pc-header":
		case "runtime-stack":
		case "exit-status":
		case "exit-signal":
			return true;
		default:
			return false;
	}
}

function findToken(line: string, mark: RegExp, accept: (token: Token) => boolean): number {
	// Bounded, so that a line full of marks costs no more than a few classified lines.
	if (line.length > 4096) return -1;
	mark.lastIndex = 1;
	let tries = 0;
	for (let m = mark.exec(line); m !== null && tries < 8; m = mark.exec(line), tries++) {
		if (accept(classifyLine(line.slice(m.index)))) return m.index;
	}
	return -1;
}
