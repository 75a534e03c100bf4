import type { GoBinary } from "../binary/index.js";
import type { CoreArch, CoreThread } from "./_core-file.js";
import { CoreError, hex } from "./_error.js";
import type { RuntimeLayout } from "./_layout.js";
import type { Memory } from "./_memory.js";
import { type CoreFrame, interruptedContext, symbolizeOnce, unwindStack } from "./_unwind.js";

/** One goroutine of the core, as a traceback would print it. */
export interface CoreGoroutine {
	readonly id: number;
	/** The address of its runtime.g. */
	readonly gp: number;
	/** runtime.gStatusStrings' name of its status (`running`, `waiting`, …), ` (scan)` appended when the scan bit is set. */
	readonly status: string;
	/** The wait reason when waiting (`chan receive`), else undefined. */
	readonly waitReason: string | undefined;
	/** The state a Go traceback prints between brackets: the wait reason, else the status. */
	readonly state: string;
	readonly scan: boolean;
	readonly lockedToThread: boolean;
	/** The thread running it (from g.m.procid), when running. */
	readonly tid: number | undefined;
	/** Where the unwind started: the thread's registers, a signal's context on its thread, g.syscallsp/pc, g.sched, or none. */
	readonly from: "thread" | "signal" | "syscall" | "sched" | "unavailable";
	readonly frames: readonly CoreFrame[];
	/** Its stack's bounds, g.stack.lo and g.stack.hi. */
	readonly stackLo: number;
	readonly stackHi: number;
	/** The go statement that started it, as the traceback's `created by` line; null for goroutine 1 or when g.gopc is not code. */
	readonly createdBy: CreatedBy | null;
}

/** Where a goroutine was started: the function with the go statement, its file:line and pc. */
export interface CreatedBy {
	readonly function: string;
	readonly file: string;
	readonly line: number;
	readonly pc: number;
	/** The goroutine that ran the go statement (g.parentGoid, Go 1.21+), else null. */
	readonly goroutine: number | null;
}

// runtime/runtime2.go goroutine states.
const gScan = 0x1000;
const gRunning = 2;
const gWaiting = 4;
const gDead = 6;
const maxGoroutines = 1 << 24;
const maxName = 256;

/** What reading the goroutines needs. */
export interface GoroutineContext {
	readonly bin: GoBinary;
	readonly arch: CoreArch;
	readonly mem: Memory;
	readonly bias: number;
	readonly layout: RuntimeLayout;
	readonly threads: readonly CoreThread[];
}

/** Reads every goroutine of runtime.allgs that is not dead, in allgs order, with its stack. */
export function readGoroutines(c: GoroutineContext): CoreGoroutine[] {
	return [...scanGoroutines(c)];
}

/** Reads the goroutines of runtime.allgs one at a time, as {@link readGoroutines} lists them. */
export function* scanGoroutines(c: GoroutineContext): Generator<CoreGoroutine> {
	const { mem } = c;
	const allgs = symbol(c, "runtime.allgs");
	const array = mem.word(allgs, "runtime.allgs");
	const len = mem.word(allgs + 8, "runtime.allgs length");
	if (len > maxGoroutines) {
		throw new CoreError(
			"malformed",
			`runtime.allgs holds ${len} goroutines, more than ${maxGoroutines}`,
			allgs,
		);
	}
	const statuses = stringTable(c, "runtime.gStatusStrings");
	const reasons = stringTable(c, "runtime.waitReasonStrings");
	for (let i = 0; i < len; i++) {
		if (i % prefetchCount === 0) prefetchStacks(c, array, i, Math.min(len, i + prefetchCount));
		let gp: number | undefined;
		let g: CoreGoroutine | undefined;
		try {
			gp = mem.word(array + i * 8, "an element of runtime.allgs");
			g = readGoroutine(c, gp, statuses, reasons);
		} catch (error) {
			// Named here, once, not in each read: 100k goroutines make 1M reads.
			if (!(error instanceof CoreError)) throw error;
			const whose = `runtime.allgs[${i}]${gp === undefined ? "" : `, the g at ${hex(gp)}`}`;
			throw new CoreError(error.code, `${error.message} (${whose})`, error.offset);
		}
		if (g !== undefined) yield g;
	}
}

// The goroutine whose g is at `gp`, with its stack; undefined when it is dead.
function readGoroutine(
	c: GoroutineContext,
	gp: number,
	statuses: (i: number) => string | undefined,
	reasons: (i: number) => string | undefined,
): CoreGoroutine | undefined {
	const { mem, layout } = c;
	const raw = mem.u32(gp + layout.g.atomicstatus, "the status of a goroutine");
	const status = raw & ~gScan;
	if (raw === gDead) return undefined;
	const scan = (raw & gScan) !== 0;
	const wr = mem.u8(gp + layout.g.waitreason, "the wait reason of a goroutine");
	const name = statuses(status) ?? "???";
	const waitReason =
		status === gWaiting && wr !== 0 ? (reasons(wr) ?? `wait reason ${wr}`) : undefined;
	const m = mem.word(gp + layout.g.m, "the m of a goroutine");
	const tid =
		status === gRunning && m !== 0
			? mem.word(m + layout.m.procid, `procid of m at ${hex(m)}`)
			: undefined;
	const { from, frames, stackLo, stackHi } = stack(c, gp, status, tid);
	const id = mem.word(gp + layout.g.goid, "the goid of a goroutine");
	return {
		id,
		gp,
		status: scan ? `${name} (scan)` : name,
		waitReason,
		state: waitReason ?? name,
		scan,
		lockedToThread: mem.word(gp + layout.g.lockedm, "the lockedm of a goroutine") !== 0,
		tid,
		from,
		frames,
		stackLo,
		stackHi,
		createdBy: id === 1 ? null : createdBy(c, gp),
	};
}

// Goroutines whose stacks are read ahead together.
const prefetchCount = 256;

// Reads ahead the stacks that `stack` will hold for the goroutines of allgs[start:end]: those
// not running, from g.syscallsp or g.sched.sp up. What cannot be read is left for `stack` to
// find and name.
function prefetchStacks(c: GoroutineContext, array: number, start: number, end: number): void {
	const { mem, layout } = c;
	const g = layout.g;
	const ranges: number[] = [];
	for (let i = start; i < end; i++) {
		try {
			const gp = mem.word(array + i * 8, "an element of runtime.allgs");
			const status = mem.u32(gp + g.atomicstatus, "the status of a goroutine") & ~gScan;
			if (status === gDead || status === gRunning) continue;
			const syscallsp = mem.word(gp + g.syscallsp, "the syscallsp of a goroutine");
			const sp =
				syscallsp !== 0
					? syscallsp
					: mem.word(gp + g.sched + layout.gobuf.sp, "the sched.sp of a goroutine");
			ranges.push(sp, mem.word(gp + g.stackHi, "the stack of a goroutine"));
		} catch (error) {
			if (!(error instanceof CoreError)) throw error;
		}
	}
	mem.prefetch(ranges);
}

// As runtime.printcreatedby1: the function holding g.gopc, and the file:line of the call before
// it (the pc is a return address).
function createdBy(c: GoroutineContext, gp: number): CreatedBy | null {
	const { mem, layout } = c;
	const pc = mem.word(gp + layout.g.gopc, "the gopc of a goroutine");
	if (pc === 0) return null;
	const at = symbolizeOnce(c.bin, pc - c.bias, true);
	if (at === undefined) return null;
	const innermost = at.inlined[0] ?? at;
	const parent = layout.g.parentGoid;
	return {
		function: at.function,
		file: innermost.file,
		line: innermost.line,
		pc,
		goroutine: parent === null ? null : mem.word(gp + parent, "the parentGoid of a goroutine"),
	};
}

function stack(
	c: GoroutineContext,
	gp: number,
	status: number,
	tid: number | undefined,
): Pick<CoreGoroutine, "from" | "frames" | "stackLo" | "stackHi"> {
	const { mem, layout } = c;
	const g = layout.g;
	const lo = mem.word(gp + g.stackLo, "the stack of a goroutine");
	const hi = mem.word(gp + g.stackHi, "the stack of a goroutine");
	const bounds = { lo, hi };
	const unwound = (from: CoreGoroutine["from"], frames: readonly CoreFrame[]) => ({
		from,
		frames,
		stackLo: lo,
		stackHi: hi,
	});
	const unwind = (start: Parameters<typeof unwindStack>[4]) =>
		unwindStack(c.bin, c.arch, mem, c.bias, start, bounds);
	if (status === gRunning) {
		// A running goroutine's registers are its thread's, when the thread is on its stack (and
		// not on the thread's g0 or signal stack, whose frames would not be the goroutine's).
		const t = c.threads.find((x) => x.tid === tid);
		if (t !== undefined && t.sp >= BigInt(lo) && t.sp < BigInt(hi)) {
			const lr = t.lr === undefined ? 0 : Number(t.lr);
			return unwound("thread", unwind({ pc: Number(t.pc), sp: Number(t.sp), lr, trap: true }));
		}
		// A thread in Go's signal handler (GOTRACEBACK=crash aborts from one) runs on its signal
		// stack; the goroutine's registers are in the signal's context.
		if (t !== undefined) {
			const lr = t.lr === undefined ? 0 : Number(t.lr);
			const start = { pc: Number(t.pc), sp: Number(t.sp), lr, trap: true };
			const ctx = interruptedContext(c.bin, c.arch, mem, c.bias, start);
			if (ctx !== undefined && ctx.sp >= lo && ctx.sp < hi) {
				return unwound("signal", unwind(ctx));
			}
		}
		return unwound("unavailable", []);
	}
	// Others as tracebackothers prints them (runtime/traceback.go unwinder.initAt): from
	// g.syscallsp/pc when set, else from g.sched.
	const syscallsp = mem.word(gp + g.syscallsp, "the syscallsp of a goroutine");
	if (syscallsp !== 0) {
		const pc = mem.word(gp + g.syscallpc, "the syscallpc of a goroutine");
		mem.hold(syscallsp, hi);
		return unwound("syscall", unwind({ pc, sp: syscallsp, lr: 0, trap: false }));
	}
	const sched = gp + g.sched;
	const sp = mem.word(sched + layout.gobuf.sp, "the sched.sp of a goroutine");
	const pc = mem.word(sched + layout.gobuf.pc, "the sched.pc of a goroutine");
	const lr = mem.word(sched + layout.gobuf.lr, "the sched.lr of a goroutine");
	mem.hold(sp, hi);
	return unwound("sched", unwind({ pc, sp, lr, trap: false }));
}

const symbolsNeeded = ["runtime.allgs", "runtime.gStatusStrings", "runtime.waitReasonStrings"];

/**
 * Fails, saying what to do, when the binary has no symbol table: the goroutines are found from
 * it, whatever else the binary has (a stripped binary usually lacks its DWARF too).
 */
export function requireSymbolTable(bin: GoBinary): void {
	if (!bin.image.hasSymbols)
		throw new CoreError(
			"unsupported",
			`The binary has no symbol table (built with -ldflags=-s, or stripped): gocrash core needs ${symbolsNeeded.join(", ")} from it; use the unstripped binary from the build`,
			0,
		);
}

// The address of a runtime variable in the process.
function symbol(c: GoroutineContext, name: string): number {
	requireSymbolTable(c.bin);
	const addr = c.bin.image.symbols.get(name);
	if (addr === undefined) {
		throw new CoreError(
			"unsupported",
			`The binary's symbol table has no ${name}: gocrash core cannot find the goroutines without it`,
			0,
		);
	}
	return addr + c.bias;
}

// A `[...]string` runtime table (gStatusStrings, waitReasonStrings) looked up by index.
function stringTable(c: GoroutineContext, name: string): (i: number) => string | undefined {
	const addr = symbol(c, name);
	const size = c.bin.image.symbolSizes.get(name) ?? 0;
	const count = Math.floor(size / 16);
	const cache = new Map<number, string | undefined>();
	return (i) => {
		if (i < 0 || i >= count) return undefined;
		if (cache.has(i)) return cache.get(i);
		const ptr = c.mem.word(addr + i * 16, `${name}[${i}]`);
		const len = c.mem.word(addr + i * 16 + 8, `${name}[${i}] length`);
		if (len > maxName)
			throw new CoreError("malformed", `${name}[${i}] is ${len} bytes long`, addr + i * 16);
		const s = len === 0 ? "" : new TextDecoder().decode(c.mem.read(ptr, len, `${name}[${i}]`));
		cache.set(i, s);
		return s;
	};
}
