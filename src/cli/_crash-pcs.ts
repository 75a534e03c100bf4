import { formatPC, type GoBinary, type SplitSP, scanSplitSP } from "../binary/index.js";
import type { Crash, Frame } from "../traceback/index.js";

/** A PC named by the crash text: the signal PC, a register, or a frame. */
export interface CrashPC {
	readonly label: string;
	/** The PC as the crashed process saw it. */
	readonly pc: number;
}

/** A goroutine frame whose PC is the exposed instruction of a split SP adjustment. */
export interface SplitFrame {
	readonly goroutine: number;
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

const hexPC = (s: string | null): number | undefined =>
	s !== null && /^0x[0-9a-f]{1,16}$/i.test(s) ? Number.parseInt(s.slice(2), 16) : undefined;

/**
 * Works out the load bias of `bin` from crash frames whose function, offset and PC are printed
 * (or the signal PC against each goroutine's top frame), and finds the frames that sit on a split
 * SP adjustment: with async preemption, the frame below `runtime.asyncPreempt` is the PC where
 * the goroutine was stopped.
 */
export function readCrashPCs(bin: GoBinary, crashes: readonly Crash[]): CrashPCs {
	const entries = new Map<string, number>();
	const tab = bin.pclntab;
	for (let i = 0; i < tab.nfunc; i++) {
		const name = tab.func(i).name;
		if (!entries.has(name)) entries.set(name, tab.entry(i));
	}
	const linkPC = (f: Frame): number | undefined => {
		const entry = entries.get(f.function);
		return entry === undefined || f.offset === null ? undefined : entry + f.offset;
	};
	const votes = new Map<number, { count: number; source: string }>();
	const vote = (bias: number, source: string): void => {
		// A load base is never negative: such a frame is not this binary's.
		if (bias < 0) return;
		const v = votes.get(bias);
		votes.set(bias, { count: (v?.count ?? 0) + 1, source: v?.source ?? source });
	};
	for (const crash of crashes) {
		for (const g of crash.goroutines) {
			for (const f of g.frames) {
				const pc = hexPC(f.pc);
				const link = linkPC(f);
				if (pc !== undefined && link !== undefined) {
					vote(pc - link, `${f.function}+${formatPC(f.offset ?? 0)} pc=${f.pc}`);
				}
			}
		}
	}
	if (votes.size === 0) {
		// No frame printed its pc: the signal PC is the top frame of one goroutine; a load base is
		// page-aligned, so only aligned differences count.
		for (const crash of crashes) {
			const pc = hexPC(crash.signal?.pc ?? null);
			if (pc === undefined) continue;
			for (const g of crash.goroutines) {
				const top = g.frames[0];
				const link = top === undefined ? undefined : linkPC(top);
				if (top !== undefined && link !== undefined && (pc - link) % 0x1000 === 0) {
					vote(
						pc - link,
						`signal PC=${formatPC(pc)} at ${top.function}+${formatPC(top.offset ?? 0)}`,
					);
				}
			}
		}
	}
	let best: [number, { count: number; source: string }] | undefined;
	for (const v of votes) if (best === undefined || v[1].count > best[1].count) best = v;
	const bias = best?.[0] ?? 0;
	const biasSource =
		best === undefined ? "no frame with a known pc; assuming the link addresses" : best[1].source;

	const pcs: CrashPC[] = [];
	for (const crash of crashes) {
		const signal = hexPC(crash.signal?.pc ?? null);
		if (signal !== undefined)
			pcs.push({ label: `signal ${crash.signal?.name ?? ""} PC`, pc: signal });
		for (const [label, regs] of [
			["", crash.registers],
			...crash.threads.map((t, i) => [`thread ${i + 1} `, t.registers] as const),
		] as const) {
			for (const r of ["pc", "lr", "rip"]) {
				const v = hexPC(regs[r] ?? null);
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
