import { formatPC, type GoBinary, type ScanReport, type SplitSP } from "../binary/index.js";
import { type CoreReport, formatPreemption } from "../core/index.js";
import { type Crash, type Frame, type Goroutine, goroutineName } from "../traceback/index.js";
import { preemptedVictims } from "./_analyses.js";
import { hexValue } from "./_binary-match.js";
import { formatFrame } from "./_frames.js";

/** A binary given with `--binary`, read, with its split-SP scan when one was needed. */
export interface BinaryInput {
	readonly name: string;
	readonly bin: GoBinary;
}

/** A core file of the process that crashed (`--core`), read with the binary. */
export interface CoreInput {
	readonly name: string;
	readonly report: CoreReport;
}

/** What the split-SP analysis established: facts for the rules, evidence and steps for people. */
export interface SplitSPCheck {
	readonly facts: Map<string, string>;
	readonly evidence: string[];
	readonly steps: string[];
}

/**
 * The goroutine(s) most surely being unwound when the crash happened, with the function each was
 * stopped in: the goroutine named by `runtime: gN: frame.sp=…` / `runtime: g N: unexpected return
 * pc for F …` (when its own traceback crashed before printing F, F comes from that line), else the
 * one whose `gp=` is runtime.scanstack's argument, else every asynchronously preempted goroutine.
 */
export function splitSPVictims(crash: Crash): { goroutine: Goroutine; frame: Frame }[] {
	const victims = preemptedVictims(crash);
	const named = new Map<number, string | null>();
	for (const line of crash.runtimeLines) {
		const m = /^runtime: g ?(\d+): (?:frame\.sp=|unexpected return pc for (\S+) )/.exec(line);
		if (m?.[1] !== undefined) named.set(Number(m[1]), m[2] ?? named.get(Number(m[1])) ?? null);
	}
	if (named.size > 0) {
		const out: { goroutine: Goroutine; frame: Frame }[] = [];
		for (const [id, fn] of named) {
			const shown = victims.find((v) => v.goroutine.id === id);
			if (shown !== undefined) out.push(shown);
			else {
				const g = crash.goroutines.find((x) => x.id === id);
				if (g !== undefined && fn !== null) out.push({ goroutine: g, frame: bareFrame(fn) });
			}
		}
		if (out.length > 0) return out;
	}
	const scanned = new Set<string>();
	const frames = [...crash.runtimeStack, ...crash.goroutines.flatMap((g) => g.frames)];
	for (const f of frames) {
		if (f.function !== "runtime.scanstack" || f.args === null) continue;
		const arg = f.args.split(",")[0]?.trim().replace(/\?$/, "");
		if (arg !== undefined) scanned.add(arg);
	}
	const scannedVictims = victims.filter(
		(v) => v.goroutine.gp !== null && scanned.has(v.goroutine.gp),
	);
	// First the victims whose frame (fp−sp) is in the split range, those being scanned (`(scan)`)
	// before the others; last those stopped at a function's entry (no +0x offset printed), which
	// cannot be inside its epilogue.
	const rank = (v: { goroutine: Goroutine; frame: Frame }): number => {
		const size = frameSize(v.frame);
		if (size !== null && isSplitFrameSize(size)) return v.goroutine.scan ? 0 : 1;
		return v.frame.offset === null ? 3 : 2;
	};
	return (scannedVictims.length > 0 ? scannedVictims : victims).sort((a, b) => rank(a) - rank(b));
}

/**
 * The size of a frame as the unwinder saw it, `fp=` minus `sp=` of its file line (printed with
 * GOTRACEBACK=system or crash); null when either is missing. On arm64 fp is sp plus the pcsp
 * value at the frame's pc (runtime/traceback.go, resolveInternal), and inside a split epilogue
 * that value is still the whole frame.
 */
export function frameSize(frame: Frame): number | null {
	if (frame.fp === null || frame.sp === null) return null;
	const fp = hexValue(frame.fp);
	const sp = hexValue(frame.sp);
	return fp === undefined || sp === undefined || fp < sp ? null : fp - sp;
}

/** Whether the arm64 assembler pops a frame of this size with two ADDs: 0x10000–0xFFFFFF, not a multiple of 0x1000. */
export function isSplitFrameSize(size: number): boolean {
	return size >= 0x10000 && size <= 0xffffff && size % 0x1000 !== 0;
}

function describeSize(frame: Frame): string {
	const size = frameSize(frame);
	if (size === null) return "";
	return isSplitFrameSize(size)
		? `; its frame is ${formatPC(size)} bytes (fp−sp), in the split range 0x10000–0xFFFFFF`
		: `; its frame is ${formatPC(size)} bytes (fp−sp), outside the split range 0x10000–0xFFFFFF`;
}

/** A frame known only by its function name (from a `runtime:` line), without position. */
function bareFrame(fn: string): Frame {
	return {
		function: fn,
		package: "",
		receiver: null,
		args: null,
		inlined: false,
		file: null,
		line: null,
		offset: null,
		fp: null,
		sp: null,
		pc: null,
	};
}

/**
 * What the victims' frame sizes (fp−sp) establish without the binary: that one was stopped in a
 * frame of the split range (`split-sp-victim-split-frame`), the shape of a split-SP victim.
 */
export function victimFacts(
	victims: readonly { goroutine: Goroutine; frame: Frame }[],
): Map<string, string> {
	const facts = new Map<string, string>();
	const split = victims.find((v) => {
		const size = frameSize(v.frame);
		return size !== null && isSplitFrameSize(size);
	});
	if (split !== undefined) {
		facts.set(
			"split-sp-victim-split-frame",
			`${goroutineName(split.goroutine)} [${split.goroutine.stateText}] was stopped by asynchronous preemption in ${split.frame.function}, whose ${formatPC(frameSize(split.frame) ?? 0)}-byte frame the arm64 assembler pops with two ADDs: the shape of a split-SP victim`,
		);
	}
	return facts;
}

function describeVictim(v: { goroutine: Goroutine; frame: Frame }): string {
	if (v.frame.file === null && v.frame.pc === null) {
		return `victim ${goroutineName(v.goroutine)} [${v.goroutine.stateText}]: the unwinder failed on its frame of ${v.frame.function} (named by the runtime's 'unexpected return pc' line; the goroutine's own traceback did not print that frame)`;
	}
	const off = v.frame.offset === null ? "" : ` +0x${v.frame.offset.toString(16)}`;
	const pc = v.frame.pc === null ? "" : ` pc=${v.frame.pc}`;
	return `victim ${goroutineName(v.goroutine)} [${v.goroutine.stateText}] was asynchronously preempted (runtime.asyncPreempt) in ${formatFrame(v.frame)}${off}${pc}${describeSize(v.frame)}`;
}

function findEntry(bin: GoBinary, name: string): number | undefined {
	const tab = bin.pclntab;
	for (let i = 0; i < tab.nfunc; i++) if (tab.func(i).name === name) return tab.entry(i);
	return undefined;
}

function windowText(w: SplitSP): string {
	const [a, b] = w.deltas;
	return `${formatPC(w.pc - 4)} ADD $${formatPC(a)}, RSP, RSP; ${formatPC(w.pc)} ADD $${formatPC(b)}, RSP, RSP (frame ${formatPC(w.frameSize)}, ${w.leaf ? "leaf" : "non-leaf"} function)`;
}

/**
 * Names the victim and, with the binary (one that matches the crash, with the load base its frames
 * give), checks whether its PC is exactly on a split window; with a core of the same moment, also
 * every goroutine the core shows stopped in runtime.asyncPreempt, printed or not.
 */
export function checkSplitSP(
	crash: Crash,
	binary: BinaryInput | undefined,
	loadBase: number | null,
	scan: () => ScanReport,
	core?: CoreInput,
): SplitSPCheck {
	const evidence: string[] = [];
	const steps: string[] = [];
	const victims = splitSPVictims(crash);
	const facts = victimFacts(victims);
	const fromCore =
		binary !== undefined && core !== undefined && checkCore(crash, core, facts, evidence);
	for (const v of victims.slice(0, 3)) evidence.push(describeVictim(v));
	if (victims.length === 0 && !fromCore) {
		evidence.push(
			"no goroutine in the dump was stopped by asynchronous preemption (no runtime.asyncPreempt frame): the victim is not shown; GOTRACEBACK=system or crash prints it",
		);
	}
	if (binary === undefined) {
		if (victims.length > 0)
			steps.push(
				`Confirm with the exact binary that crashed: gocrash diagnose CRASH --binary BIN (checks that ${victims[0]?.frame.function} stopped on a split epilogue), and gocrash scan BIN to list every hazardous function.`,
			);
		else
			steps.push("Run gocrash scan BIN on the binary that crashed to list its split-SP windows.");
		return { facts, evidence, steps };
	}
	const report = scan();
	if (report.goarch !== "arm64") {
		evidence.push(
			`${binary.name} is ${report.goos}/${report.goarch}, not arm64: its epilogues are never split`,
		);
		facts.set("split-sp-victim-off-window", `${binary.name} is not an arm64 binary`);
		return { facts, evidence, steps };
	}
	for (const v of victims) {
		const entry = findEntry(binary.bin, v.frame.function);
		if (entry === undefined) {
			evidence.push(`${v.frame.function} is not in ${binary.name}: is it the binary that crashed?`);
			continue;
		}
		let pc: number | undefined;
		if (v.frame.offset !== null) pc = entry + v.frame.offset;
		else {
			const printed = hexValue(v.frame.pc);
			if (loadBase !== null && printed !== undefined) pc = printed - loadBase;
		}
		if (pc === undefined) {
			const windows = report.splitSP.filter(
				(w) => w.function === v.frame.function && w.preemptible,
			);
			if (windows.length === 0) {
				const text = `in ${binary.name}, ${v.frame.function} has no preemptible split epilogue`;
				if (!facts.has("split-sp-victim-off-window")) facts.set("split-sp-victim-off-window", text);
				evidence.push(text);
				continue;
			}
			evidence.push(
				`in ${binary.name} (${report.goVersion}), ${v.frame.function} has ${windows.length} preemptible split window(s): ${windows.map(windowText).join("; ")}; the exact PC was not printed, so this supports but does not prove the cause`,
			);
			if (windows.every((w) => w.leaf))
				facts.set(
					"split-sp-victim-leaf",
					`${v.frame.function} is a leaf function: no Go release fixes its epilogue`,
				);
			continue;
		}
		if (v.frame.pc !== null && loadBase !== null && loadBase !== 0)
			evidence.push(
				`load base ${formatPC(loadBase)} (position-independent binary): printed pc ${v.frame.pc} is ${formatPC(pc)} in ${binary.name}`,
			);
		const windows = report.splitSP.filter((w) => w.function === v.frame.function);
		const hit = windows.find((w) => w.pc === pc);
		const at = `${v.frame.function}+0x${(pc - entry).toString(16)} = ${formatPC(pc)}`;
		if (hit !== undefined) {
			const text = `in ${binary.name} (${report.goVersion}), ${goroutineName(v.goroutine)} stopped at ${at}, exactly the second half of a split epilogue: ${windowText(hit)}`;
			facts.set("split-sp-victim-on-window", text);
			evidence.push(text);
			if (hit.leaf)
				facts.set(
					"split-sp-victim-leaf",
					`${v.frame.function} is a leaf function: no Go release fixes its epilogue`,
				);
			break;
		}
		const text =
			windows.length === 0
				? `in ${binary.name}, ${v.frame.function} has no split epilogue; ${goroutineName(v.goroutine)} stopped at ${at}`
				: `in ${binary.name}, ${goroutineName(v.goroutine)} stopped at ${at}, not on one of the function's split windows (${windows.map((w) => formatPC(w.pc)).join(", ")})`;
		if (!facts.has("split-sp-victim-off-window")) facts.set("split-sp-victim-off-window", text);
		evidence.push(text);
	}
	if (facts.has("split-sp-victim-on-window")) facts.delete("split-sp-victim-off-window");
	const { leaf, nonLeaf } = report.hazardousFunctions;
	const list = (names: readonly string[]): string =>
		names.length <= 8
			? names.join(", ")
			: `${names.slice(0, 8).join(", ")} and ${names.length - 8} more`;
	if (leaf.length + nonLeaf.length > 0) {
		evidence.push(
			`${binary.name} has ${report.splitSP.filter((s) => s.preemptible && !s.asm).length} preemptible split window(s) in ${leaf.length + nonLeaf.length} function(s)${nonLeaf.length > 0 ? `; non-leaf: ${list(nonLeaf)}` : ""}${leaf.length > 0 ? `; leaf: ${list(leaf)}` : ""}`,
		);
	}
	steps.push(...report.remedies);
	return { facts, evidence, steps };
}

/** Whether a crash shows the unwinder failing or a preempted goroutine: only then is the binary scanned. */
export function hasSplitSPSignature(crash: Crash): boolean {
	if (preemptedVictims(crash).length > 0) return true;
	if (crash.runtimeLines.some((l) => /unexpected return pc|frame\.sp=/.test(l))) return true;
	if (
		crash.fatal !== null &&
		/traceback did not unwind|unknown caller pc|traceback stuck/.test(crash.fatal)
	)
		return true;
	const frames = [...crash.runtimeStack, ...crash.goroutines.flatMap((g) => g.frames)];
	return frames.some((f) => f.function === "runtime.(*unwinder).next");
}

/**
 * The core's preempted goroutines as evidence, when the core is of this crash: every goroutine the
 * text printed with its g address (gp=) must be the one the core has under that id. A goroutine
 * on a split window sets `split-sp-victim-on-window`, whether or not the text printed it.
 */
function checkCore(
	crash: Crash,
	core: CoreInput,
	facts: Map<string, string>,
	evidence: string[],
): boolean {
	const { report } = core;
	const gps = new Map(report.goroutines.map((g) => [g.id, `0x${g.gp.toString(16)}`]));
	const differ = crash.goroutines.filter(
		(g) => g.gp !== null && g.id !== null && g.id !== 0 && gps.get(g.id) !== hexValueText(g.gp),
	);
	if (differ.length > 0) {
		const g = differ[0] as Goroutine;
		evidence.push(
			`${core.name} is not a core of this crash: ${differ.length} goroutine(s) the text printed are not in it at the same address (${goroutineName(g)} gp=${g.gp}: ${g.id !== null && gps.has(g.id) ? `core has ${gps.get(g.id)}` : "not in the core"}); it is left out of the evidence`,
		);
		return false;
	}
	if (report.goarch !== "arm64") return false;
	if (report.preempted.length === 0) {
		evidence.push(`${core.name}: no goroutine is stopped in runtime.asyncPreempt`);
		return false;
	}
	const printed = new Set(crash.goroutines.map((g) => g.id));
	// Those on a split window first.
	const preempted = [...report.preempted].sort(
		(a, b) => Number(a.splitSP === undefined) - Number(b.splitSP === undefined),
	);
	for (const p of preempted) {
		const unseen = printed.has(p.goroutine) ? "" : " (the crash text does not show it)";
		const text = `${core.name}: ${formatPreemption(p, report.bias)}${unseen}`;
		if (p.splitSP !== undefined) {
			if (!facts.has("split-sp-victim-on-window")) facts.set("split-sp-victim-on-window", text);
			evidence.push(text);
		} else if (report.preempted.length <= 3) evidence.push(text);
	}
	const off = report.preempted.filter((p) => p.splitSP === undefined).length;
	if (off > 0 && report.preempted.length > 3)
		evidence.push(`${core.name}: ${off} other preempted goroutine(s) are not on a split window`);
	if (!facts.has("split-sp-victim-on-window"))
		facts.set(
			"split-sp-victim-off-window",
			`${core.name}: none of the ${report.preempted.length} goroutine(s) stopped in runtime.asyncPreempt is on a split window`,
		);
	return true;
}

// A printed address in the form the core's are compared in (lower case, no leading zeros).
function hexValueText(text: string): string | undefined {
	const n = hexValue(text);
	return n === undefined ? undefined : `0x${n.toString(16)}`;
}
