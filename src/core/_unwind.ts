import { type GoBinary, symbolizePC } from "../binary/index.js";
import type { CoreArch } from "./_core-file.js";
import { CoreError, hex } from "./_error.js";
import type { Memory } from "./_memory.js";

/** One frame of a goroutine's stack, as a Go traceback prints it (inlined calls are frames too). */
export interface CoreFrame {
	readonly function: string;
	readonly file: string;
	readonly line: number;
	/** The frame's pc in the process's addresses (a return address except in the innermost frame). */
	readonly pc: number;
	readonly sp: number;
	readonly inlined: boolean;
}

/** Where an unwind starts: registers of a thread, or a goroutine's saved gobuf. */
export interface UnwindStart {
	readonly pc: number;
	readonly sp: number;
	/** The link register (arm64); 0 when not known. */
	readonly lr: number;
	/** The pc was interrupted (a thread's registers), so it is not a return address. */
	readonly trap: boolean;
}

const maxFrames = 10_000;
// FuncFlag_TOPFRAME (internal/abi/symtab.go): the outermost frame of a stack.
const funcFlagTopFrame = 1;
// Functions whose caller's pc was injected by a signal, not left by a call
// (runtime/traceback.go, unwinder.next: injectedCall).
const injected = new Set(["runtime.sigpanic", "runtime.asyncPreempt", "runtime.debugCallV2"]);
const outermost = new Set([
	"runtime.goexit",
	"runtime.mstart",
	"runtime.rt0_go",
	"runtime.mcall",
	"runtime.morestack",
]);

/** What the pclntab says of one pc: its function's name, and pcsp there. */
interface PcInfo {
	readonly name: string;
	readonly delta: number | undefined;
	/** What reading the return address of a frame there is, for an error. */
	readonly returnAddress: string;
	/** The function is the outermost of a stack: the walk ends with it. */
	readonly outermost: boolean;
	/** Its caller's pc was injected by a signal (see `injected`). */
	readonly injected: boolean;
}

// A core's goroutines run the same code over and over (100k goroutines share a few hundred pcs):
// what the pclntab says of a pc, and its symbolized frames, are decoded once per binary.
const pcInfos = new WeakMap<GoBinary, Map<number, PcInfo | null>>();
const symbolized = new WeakMap<GoBinary, Map<number, ReturnType<typeof symbolizePC>>>();

function cacheOf<V>(caches: WeakMap<GoBinary, Map<number, V>>, bin: GoBinary): Map<number, V> {
	let cache = caches.get(bin);
	if (cache === undefined) {
		cache = new Map();
		caches.set(bin, cache);
	}
	return cache;
}

function pcInfo(bin: GoBinary, cache: Map<number, PcInfo | null>, linked: number): PcInfo | null {
	let info = cache.get(linked);
	if (info !== undefined) return info;
	const tab = bin.pclntab;
	const i = tab.findFunc(linked);
	if (i < 0) info = null;
	else {
		const f = tab.func(i);
		info = {
			name: f.name,
			delta: tab.valueAt(f.pcsp, f.entry, f.end, linked),
			returnAddress: `return address of ${f.name}`,
			outermost: (f.flag & funcFlagTopFrame) !== 0 || outermost.has(f.name),
			injected: injected.has(f.name),
		};
	}
	cache.set(linked, info);
	return info;
}

/** symbolizePC of `bin`, remembered per binary: cores repeat the same few hundred pcs. */
export function symbolizeOnce(
	bin: GoBinary,
	linked: number,
	call: boolean,
	cache = cacheOf(symbolized, bin),
): ReturnType<typeof symbolizePC> {
	// `call` is the key's low bit (pcs are below 2^52).
	const key = linked * 2 + (call ? 1 : 0);
	let at = cache.get(key);
	if (at === undefined && !cache.has(key)) {
		at = symbolizePC(bin, linked, call);
		cache.set(key, at);
	}
	return at;
}

/**
 * Sees one physical frame of a walk: its pc and sp, whether its pc was interrupted, its
 * function's own name (runtime.gopanic, not panic) and pcsp at its pc (how far sp is below its
 * value at the function's entry). Returns true to stop the walk.
 */
type FrameVisitor = (pc: number, sp: number, trap: boolean, name: string, delta: number) => boolean;

// Walks the physical frames from `start`, as runtime/traceback.go's unwinder does: each
// frame's pcsp value at its pc gives the return address and the caller's sp. It stops after the
// outermost function, at a pc outside Go code, when sp leaves `[lo, hi)`, or when `visit` says so.
function walk(
	bin: GoBinary,
	arch: CoreArch,
	mem: Memory,
	bias: number,
	start: UnwindStart,
	stack: { readonly lo: number; readonly hi: number },
	visit: FrameVisitor,
): void {
	const cache = cacheOf(pcInfos, bin);
	let { pc, sp, lr, trap } = start;
	let last: PcInfo | undefined;
	let lastPc = 0;
	let lastSp = 0;
	for (let n = 0; n < maxFrames; n++) {
		if (pc === 0 || sp < stack.lo || sp >= stack.hi) return;
		// A caller identical to its callee would repeat forever (runtime/traceback.go throws
		// "traceback stuck"); only arm64's frameless functions leave sp where it was.
		if (last !== undefined && pc === lastPc && sp === lastSp) {
			throw new CoreError(
				"malformed",
				`Cannot unwind past ${last.name} at sp ${hex(sp)}: it returns to itself (traceback stuck)`,
				0,
			);
		}
		const linked = pc - bias;
		const f = pcInfo(bin, cache, linked);
		if (f === null) return;
		const delta = f.delta;
		if (delta === undefined || delta < 0) {
			throw new CoreError("malformed", `No pcsp value for ${f.name} at ${hex(linked)}`, 0);
		}
		last = f;
		lastPc = pc;
		lastSp = sp;
		if (visit(pc, sp, trap, f.name, delta)) return;
		if (f.outermost) return;
		trap = f.injected;
		if (arch === "amd64") {
			const fp = sp + delta + 8;
			pc = mem.pcWord(fp - 8, f.returnAddress);
			sp = fp;
			lr = 0;
			continue;
		}
		// The caller's pc is in LR until the function saves it at 0(RSP) with its frame
		// (runtime/traceback.go, resolveInternal: only a frameless function uses frame.lr).
		pc = lr !== 0 && delta === 0 ? lr : mem.pcWord(sp, f.returnAddress);
		sp += delta;
		lr = 0;
		if (trap) {
			// The signal handler pushed the interrupted LR 16 bytes below the interrupted SP
			// before faking the call (runtime/signal_arm64.go, pushCall and preparePanic); the
			// unwinder steps over it and gives it to a frameless caller (unwinder.next).
			const saved = mem.pcWord(sp, `saved LR below ${f.name}`);
			sp += 16;
			const caller = pcInfo(bin, cache, pc - bias);
			if (caller === null) pc = saved;
			else if (caller.delta === 0) lr = saved;
		}
	}
}

/**
 * Unwinds a goroutine's stack from `start` within `[lo, hi)`, giving each frame as a traceback
 * prints it: the inlined calls at a pc first, then the function the code belongs to.
 */
export function unwindStack(
	bin: GoBinary,
	arch: CoreArch,
	mem: Memory,
	bias: number,
	start: UnwindStart,
	stack: { readonly lo: number; readonly hi: number },
): CoreFrame[] {
	const frames: CoreFrame[] = [];
	const cache = cacheOf(symbolized, bin);
	walk(bin, arch, mem, bias, start, stack, (pc, sp, trap) => {
		const at = symbolizeOnce(bin, pc - bias, !trap, cache);
		if (at === undefined) return true;
		for (const x of at.inlined) {
			frames.push({ function: x.function, file: x.file, line: x.line, pc, sp, inlined: true });
		}
		frames.push({ function: at.function, file: at.file, line: at.line, pc, sp, inlined: false });
		return false;
	});
	return frames;
}

// The largest stack a thread's signal handler runs on before it reaches runtime.sigtramp.
const maxSignalStack = 1 << 20;

/**
 * For a thread stopped in Go's signal handler (on its gsignal or g0 stack), the registers the
 * signal interrupted: the kernel's rt_sigframe sits where runtime.sigtramp was entered, and its
 * ucontext holds them. Undefined when the thread's stack does not reach runtime.sigtramp.
 */
export function interruptedContext(
	bin: GoBinary,
	arch: CoreArch,
	mem: Memory,
	bias: number,
	start: UnwindStart,
): UnwindStart | undefined {
	const bounds = { lo: start.sp, hi: start.sp + maxSignalStack };
	let context: UnwindStart | undefined;
	walk(bin, arch, mem, bias, start, bounds, (_pc, sp, _trap, name, delta) => {
		if (name !== "runtime.sigtramp") return false;
		if (arch === "arm64") {
			// sigtramp is entered with sp at the rt_sigframe: siginfo (128 bytes), then the
			// ucontext, whose uc_mcontext (after uc_flags, uc_link, uc_stack, a 1024-bit sigmask,
			// 16-aligned) is fault_address, x0–x30, sp, pc (arch/arm64/include/uapi/asm/ucontext.h
			// and sigcontext.h; QEMU's linux-user/aarch64/signal.c builds the same frame).
			const regs = sp + delta + 128 + 176 + 8;
			context = {
				pc: mem.word(regs + 32 * 8, "pc of a signal context"),
				sp: mem.word(regs + 31 * 8, "sp of a signal context"),
				lr: mem.word(regs + 30 * 8, "x30 of a signal context"),
				trap: true,
			};
			return true;
		}
		// At the handler's entry sp points at rt_sigframe.pretcode; the ucontext follows, and in
		// it uc_mcontext (after uc_flags, uc_link, uc_stack) holds rsp and rip at 15 and 16
		// words (arch/x86/include/uapi/asm/sigcontext.h, arch/x86/include/asm/sigframe.h).
		const mcontext = sp + delta + 8 + 40;
		context = {
			pc: mem.word(mcontext + 16 * 8, "rip of a signal context"),
			sp: mem.word(mcontext + 15 * 8, "rsp of a signal context"),
			lr: 0,
			trap: true,
		};
		return true;
	});
	return context;
}
