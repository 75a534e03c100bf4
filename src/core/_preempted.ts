import { type GoBinary, type SplitSP, scanSplitSP, symbolizePC } from "../binary/index.js";
import type { CoreArch } from "./_core-file.js";
import { hex } from "./_error.js";
import type { CoreGoroutine } from "./_goroutines.js";
import type { Memory } from "./_memory.js";

/** Where the split-SP bug left a preempted goroutine: what the unwinder does with its frame. */
export interface SplitSPVictim {
	/** The split epilogue whose second ADD the goroutine was stopped at. */
	readonly window: SplitSP;
	/** How far the real SP is above what pcsp says at the pc: the first ADD's amount. */
	readonly spOffBy: number;
	/** The caller's SP as the unwinder computes it (SP + pcsp) and as it really is. */
	readonly unwinderCallerSP: number;
	readonly realCallerSP: number;
	/** The word at SP, which the unwinder reads as the return address, and its function if any. */
	readonly returnAddress: bigint;
	readonly returnFunction: string | undefined;
}

/** A goroutine stopped by asynchronous preemption, with the state asyncPreempt saved. */
export interface AsyncPreemption {
	readonly goroutine: number;
	/** The pc the signal interrupted, the function and source line there, and its offset. */
	readonly pc: number;
	readonly function: string;
	readonly file: string;
	readonly line: number;
	readonly offset: number;
	/** The SP at the interruption: 16 bytes above the LR the handler pushed. */
	readonly sp: number;
	/** The link register at the interruption, and its function if any. */
	readonly lr: number;
	readonly lrFunction: string | undefined;
	/** pcsp at the pc: the frame size the unwinder assumes there. */
	readonly pcsp: number;
	/** Set when the pc is the exposed second ADD of a split epilogue. */
	readonly splitSP: SplitSPVictim | undefined;
}

/**
 * For every goroutine of an arm64 core stopped in runtime.asyncPreempt, the pc and SP the signal
 * interrupted and whether the pc is on one of its function's split-SP windows (the scanner's).
 * On arm64 the handler pushed the interrupted LR at SP-16 and faked a call at the interrupted pc
 * (runtime/signal_arm64.go, pushCall); asyncPreempt saved that pc, its LR, at 0(RSP) of its frame
 * (runtime/preempt_arm64.s). Empty for amd64, whose epilogues are never split.
 */
export function checkPreempted(
	bin: GoBinary,
	arch: CoreArch,
	mem: Memory,
	bias: number,
	goroutines: readonly CoreGoroutine[],
): AsyncPreemption[] {
	if (arch !== "arm64") return [];
	const tab = bin.pclntab;
	const out: AsyncPreemption[] = [];
	for (const g of goroutines) {
		const frame = g.frames.find((f) => f.function === "runtime.asyncPreempt" && !f.inlined);
		if (frame === undefined) continue;
		const ap = tab.func(tab.findFunc(frame.pc - bias));
		const apDelta = tab.valueAt(ap.pcsp, ap.entry, ap.end, frame.pc - bias) ?? 0;
		const fp = frame.sp + apDelta;
		const pc = mem.word(frame.sp, `interrupted pc saved by asyncPreempt of goroutine ${g.id}`);
		const lr = mem.word(fp, `interrupted LR pushed below goroutine ${g.id}'s SP`);
		const sp = fp + 16;
		const linked = pc - bias;
		const at = symbolizePC(bin, linked);
		const i = tab.findFunc(linked);
		if (at === undefined || i < 0) continue;
		const f = tab.func(i);
		const pcsp = tab.valueAt(f.pcsp, f.entry, f.end, linked) ?? 0;
		const window = scanSplitSP(bin.image, tab, { start: f.entry, end: f.end }).splits.find(
			(w) => w.pc === linked,
		);
		out.push({
			goroutine: g.id,
			pc,
			function: at.function,
			file: at.file,
			line: at.line,
			offset: at.offset,
			sp,
			lr,
			lrFunction: symbolizePC(bin, lr - bias, true)?.function,
			pcsp,
			splitSP: window === undefined ? undefined : splitVictim(bin, mem, bias, window, sp, pcsp),
		});
	}
	return out;
}

function splitVictim(
	bin: GoBinary,
	mem: Memory,
	bias: number,
	window: SplitSP,
	sp: number,
	pcsp: number,
): SplitSPVictim {
	const b = mem.read(sp, 8, "the word at a preempted goroutine's SP");
	const returnAddress = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
	const ret = Number(returnAddress) - bias;
	const spOffBy = window.deltas[0];
	return {
		window,
		spOffBy,
		unwinderCallerSP: sp + pcsp,
		realCallerSP: sp + pcsp - spOffBy,
		returnAddress,
		returnFunction: Number.isSafeInteger(ret) ? symbolizePC(bin, ret, true)?.function : undefined,
	};
}

/** One line saying where a goroutine was preempted and, on a split-SP window, what the unwinder reads there. */
export function formatPreemption(p: AsyncPreemption, bias: number): string {
	const lr = `${hex(p.lr)}${p.lrFunction === undefined ? "" : ` (${p.lrFunction})`}`;
	const where = `goroutine ${p.goroutine} was preempted at ${hex(p.pc)} in ${p.function}+${hex(p.offset)} (${p.file}:${p.line})`;
	const s = p.splitSP;
	if (s === undefined) return `${where}, SP ${hex(p.sp)}, LR ${lr}: not on a split-SP window`;
	const [a, b] = s.window.deltas;
	const second = s.window.pc + bias;
	const read = s.returnFunction === undefined ? "no pc in Go code" : `a pc in ${s.returnFunction}`;
	return `${where}, between the two ADDs of its epilogue (${hex(second - 4)} ADD $${hex(a)}, RSP, RSP; ${hex(second)} ADD $${hex(b)}, RSP, RSP; ${s.window.leaf ? "leaf" : "non-leaf"} function): SP ${hex(p.sp)} is ${hex(s.spOffBy)} above what pcsp says (frame ${hex(p.pcsp)}, ${hex(p.pcsp - s.spOffBy)} left), so the unwinder reads ${hex(s.returnAddress)} at SP as the return address (${read}) and puts the caller's SP at ${hex(s.unwinderCallerSP)} instead of ${hex(s.realCallerSP)}; the real return address is in LR: ${lr}`;
}
