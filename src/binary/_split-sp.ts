import { addSpR27, decodeMoveWide, decodeSpImmediate, loadsLinkRegister } from "./_arm64.js";
import { hex } from "./_error.js";
import { addrToOffset, type Image } from "./_image.js";
import { type FuncRecord, funcFlagAsm, type Pclntab, pcdataUnsafePoint } from "./_pclntab.js";

/** One SP adjustment split over two instructions, with pcsp not updated between them. */
export interface SplitSP {
	readonly function: string;
	/** Address of the second (exposed) instruction: the half-adjusted point. */
	readonly pc: number;
	readonly file: string;
	readonly line: number;
	/** pcsp at the exposed PC: the frame size the unwinder assumes there. */
	readonly frameSize: number;
	/** The two halves of the split constant, in bytes added to SP. */
	readonly deltas: readonly [number, number];
	/** Whether the function is assembly (FuncFlagAsm or no locals pointer maps). */
	readonly asm: boolean;
	/** Whether the exposed PC is an async-preemption point (runtime isAsyncSafePoint's static checks). */
	readonly preemptible: boolean;
	/** PCDATA_UnsafePoint at the exposed PC (-1 safe, -2 unsafe, -3/-4 restart, -5 restart at entry). */
	readonly unsafePoint: number;
	/** Whether the function is a leaf (its epilogue does not reload the link register). */
	readonly leaf: boolean;
}

/** An epilogue in the shape only fixed toolchains emit: MOVZ/MOVK R27 with a split-class constant, then ADD R27, RSP, RSP. */
export interface FixedEpilogue {
	readonly function: string;
	readonly pc: number;
	readonly frameSize: number;
}

/** What the arm64 scan found. */
export interface SplitSPScan {
	readonly splits: readonly SplitSP[];
	readonly fixedEpilogues: readonly FixedEpilogue[];
	/** Number of bytes of machine code scanned. */
	readonly scannedBytes: number;
}

const addSpR27Signed = addSpR27 | 0;
const windowWords = 1 << 18;
const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// isAsyncSafePoint (runtime/preempt.go) never preempts these packages.
const runtimePrefixes = ["runtime.", "runtime/internal/", "internal/runtime/", "reflect."];

/**
 * Scans arm64 machine code for split SP adjustments and confirms each against pcsp: the whole
 * text, or only `[range.start, range.end)`.
 */
export function scanSplitSP(
	image: Image,
	tab: Pclntab,
	range?: { readonly start: number; readonly end: number },
): SplitSPScan {
	const splits: SplitSP[] = [];
	const fixedEpilogues: FixedEpilogue[] = [];
	if (tab.nfunc === 0) return { splits, fixedEpilogues, scannedBytes: 0 };
	const textStart = range?.start ?? tab.entry(0);
	const textEnd = range?.end ?? tab.end(tab.nfunc - 1);
	const le = image.reader.littleEndian;
	let scanned = 0;
	for (const seg of image.segments) {
		const lo = Math.max(seg.addr, textStart);
		const hi = Math.min(seg.addr + seg.fileSize, textEnd);
		if (hi - lo < 8) continue;
		const base = addrToOffset(image, lo, hi - lo);
		if (base < 0) continue;
		scanned += hi - lo;
		const n = Math.floor((hi - lo) / 4);
		const scratch = new Uint8Array(Math.min(n, windowWords + 4) * 4);
		// The code is read in windows that are not kept (a file read on demand never holds all of
		// it); each window starts 4 words early so that a pair and the words before it are in it.
		for (let from = 0; from < n; from += windowWords) {
			const to = Math.min(n, from + windowWords);
			const w0 = Math.max(0, from - 4);
			const code = image.reader.borrow(base + w0 * 4, (to - w0) * 4, scratch, "machine code");
			const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
			// The hot loop reads words through an Int32Array when the host order and alignment
			// allow. Signed words stay small integers in V8, so the loop allocates nothing.
			const words =
				le === hostLittleEndian && code.byteOffset % 4 === 0
					? new Int32Array(code.buffer, code.byteOffset, to - w0)
					: undefined;
			let prev = view.getInt32((Math.max(1, from) - 1 - w0) * 4, le);
			for (let i = Math.max(1, from); i < to; i++) {
				const j = i - w0;
				const w = words !== undefined ? (words[j] as number) : view.getInt32(j * 4, le);
				// Both halves write SP from SP: Rd = Rn = 31 in the low ten bits.
				if ((w & 0x3ff) === 0x3ff && (prev & 0x3ff) === 0x3ff) {
					const a = decodeSpImmediate(prev);
					const b = decodeSpImmediate(w);
					if (a !== undefined && b !== undefined && a.sub === b.sub && a.shifted !== b.shifted) {
						const before = [
							i >= 4 ? view.getUint32((j - 4) * 4, le) : 0,
							i >= 3 ? view.getUint32((j - 3) * 4, le) : 0,
							i >= 2 ? view.getUint32((j - 2) * 4, le) : 0,
						];
						const found = confirm(tab, lo + (i - 1) * 4, a.delta, b.delta, before);
						if (found !== undefined) splits.push(found);
					}
				} else if (w === addSpR27Signed && i >= 2) {
					const fixed = fixedEpilogue(tab, lo + i * 4, view.getInt32((j - 2) * 4, le), prev);
					if (fixed !== undefined) fixedEpilogues.push(fixed);
				}
				prev = w;
			}
		}
	}
	return { splits, fixedEpilogues, scannedBytes: scanned };
}

const cache = new WeakMap<Pclntab, Map<number, FuncRecord>>();

function funcAt(tab: Pclntab, index: number): FuncRecord {
	let m = cache.get(tab);
	if (m === undefined) {
		m = new Map();
		cache.set(tab, m);
	}
	let f = m.get(index);
	if (f === undefined) {
		f = tab.func(index);
		m.set(index, f);
	}
	return f;
}

function confirm(
	tab: Pclntab,
	pc: number,
	delta1: number,
	delta2: number,
	before: readonly number[],
): SplitSP | undefined {
	const index = tab.findFunc(pc);
	if (index < 0 || tab.findFunc(pc + 4) !== index) return undefined;
	const f = funcAt(tab, index);
	const sp0 = tab.valueAt(f.pcsp, f.entry, f.end, pc);
	const sp1 = tab.valueAt(f.pcsp, f.entry, f.end, pc + 4);
	// pcsp counts bytes below the entry SP, so an instruction adding d to SP should lower it by d.
	if (sp0 === undefined || sp1 === undefined || sp1 !== sp0 || delta1 === 0) return undefined;
	const pcdata = f.pcdata[pcdataUnsafePoint];
	const unsafePoint =
		pcdata === undefined ? -1 : (tab.valueAt(pcdata, f.entry, f.end, pc + 4) ?? -1);
	const asm = (f.flag & funcFlagAsm) !== 0 || !f.hasLocalsPointerMaps;
	const runtime = runtimePrefixes.some((p) => f.name.startsWith(p));
	const { file, line } = tab.fileLine(f, pc + 4);
	return {
		function: f.name,
		pc: pc + 4,
		file,
		line,
		frameSize: sp1,
		deltas: [delta1, delta2],
		asm,
		preemptible: !asm && !runtime && unsafePoint !== -2,
		unsafePoint,
		leaf: !before.some(loadsLinkRegister),
	};
}

function fixedEpilogue(
	tab: Pclntab,
	pc: number,
	w0: number,
	w1: number,
): FixedEpilogue | undefined {
	const movz = decodeMoveWide(w0, 27);
	const movk = decodeMoveWide(w1, 27);
	if (movz === undefined || movk === undefined || movz[0] || !movk[0]) return undefined;
	if (movz[1] !== 0 || movk[1] !== 1) return undefined;
	const value = movz[2] + movk[2] * 0x10000;
	// A pre-fix assembler splits exactly these constants over two ADDs (asm7.go C_ADDCON2).
	if (value < 0x10000 || value > 0xffffff || (value & 0xfff) === 0) return undefined;
	const index = tab.findFunc(pc);
	if (index < 0) return undefined;
	return { function: funcAt(tab, index).name, pc, frameSize: value };
}

/** Formats a PC the way the binary's own addresses are written. */
export function formatPC(pc: number): string {
	return hex(pc);
}
