import {
	formatPC,
	functionsAt,
	functionsByPrintedName,
	type GoBinary,
	type SplitSP,
	scanSplitSP,
} from "../binary/index.js";
import { type BinaryMatch, hexValue } from "../diagnose/index.js";
import type { Crash, Frame } from "../traceback/index.js";

/** A PC named by the crash text: the signal PC, a register, or a frame. */
export interface CrashPC {
	readonly label: string;
	/** The PC as the crashed process saw it. */
	readonly pc: number;
}

/** A goroutine frame whose PC is the exposed instruction of a split SP adjustment. */
export interface SplitFrame {
	readonly goroutine: number | null;
	readonly state: string;
	readonly frame: string;
	readonly split: SplitSP;
}

/** What the crash text says about the binary's PCs. */
export interface CrashPCs {
	/** Runtime address minus link-time address (0 unless the binary was loaded elsewhere). */
	readonly bias: number;
	readonly biasSource: string;
	readonly pcs: readonly CrashPC[];
	readonly splitFrames: readonly SplitFrame[];
}

/**
 * Finds the PCs a crash text names, and the frames that sit on a split SP adjustment (with async
 * preemption, the frame below `runtime.asyncPreempt` is the PC where the goroutine was stopped).
 * The load bias is the one `match` read from the frames' pc= (matchBinary); when no frame printed
 * its pc, the signal PC against each goroutine's top frame gives it.
 */
export function readCrashPCs(
	bin: GoBinary,
	crashes: readonly Crash[],
	match: BinaryMatch,
): CrashPCs {
	const tab = bin.pclntab;
	const byName = functionsByPrintedName(bin);
	const linkPC = (f: Frame): number | undefined => {
		if (f.offset === null) return undefined;
		const index = functionsAt(bin, byName, f.function, f.offset)[0];
		return index === undefined ? undefined : tab.entry(index) + f.offset;
	};
	let bias = match.loadBase ?? 0;
	let biasSource = match.loadBaseFrame ?? "no frame with a known pc; assuming the link addresses";
	if (match.loadBase === null) {
		// The signal PC is the top frame of one goroutine; a load base is page-aligned and never
		// negative, so only such differences count.
		const votes = new Map<number, { count: number; source: string }>();
		for (const crash of crashes) {
			const pc = hexValue(crash.signal?.pc ?? null);
			if (pc === undefined) continue;
			for (const g of crash.goroutines) {
				const top = g.frames[0];
				const link = top === undefined ? undefined : linkPC(top);
				if (top === undefined || link === undefined || pc < link || (pc - link) % 0x1000 !== 0)
					continue;
				const v = votes.get(pc - link);
				const source = `signal PC=${formatPC(pc)} at ${top.function}+${formatPC(top.offset ?? 0)}`;
				votes.set(pc - link, { count: (v?.count ?? 0) + 1, source: v?.source ?? source });
			}
		}
		let best: [number, { count: number; source: string }] | undefined;
		for (const v of votes) if (best === undefined || v[1].count > best[1].count) best = v;
		if (best !== undefined) [bias, { source: biasSource }] = best;
	}

	const pcs: CrashPC[] = [];
	for (const crash of crashes) {
		const signal = hexValue(crash.signal?.pc ?? null);
		if (signal !== undefined)
			pcs.push({ label: `signal ${crash.signal?.name ?? ""} PC`, pc: signal });
		for (const [label, regs] of [
			["", crash.registers],
			...crash.threads.map((t, i) => [`thread ${i + 1} `, t.registers] as const),
		] as const) {
			for (const r of ["pc", "lr", "rip"]) {
				const v = hexValue(regs[r] ?? null);
				if (v !== undefined) pcs.push({ label: `${label}register ${r}`, pc: v });
			}
		}
	}

	const splitFrames: SplitFrame[] = [];
	const windows = new Map<number, SplitSP>();
	const scanned = new Set<number>();
	for (const crash of crashes) {
		for (const g of crash.goroutines) {
			for (const f of g.frames) {
				const link = linkPC(f);
				if (link === undefined || bin.arch !== "arm64") continue;
				const index = tab.findFunc(link);
				if (index < 0) continue;
				const entry = tab.entry(index);
				if (!scanned.has(entry)) {
					scanned.add(entry);
					const range = { start: entry, end: tab.end(index) };
					for (const s of scanSplitSP(bin.image, tab, range).splits) windows.set(s.pc, s);
				}
				const split = windows.get(link);
				if (split !== undefined) {
					splitFrames.push({
						goroutine: g.id,
						state: g.stateText,
						frame: `${f.function}+${formatPC(f.offset ?? 0)}`,
						split,
					});
				}
			}
		}
	}
	return { bias, biasSource, pcs, splitFrames };
}
