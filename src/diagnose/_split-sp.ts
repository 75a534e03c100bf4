import { formatPC, type GoBinary, type ScanReport, type SplitSP } from "../binary/index.js";
import type { Crash, Frame, Goroutine } from "../traceback/index.js";
import { preemptedVictims } from "./_analyses.js";
import { formatFrame } from "./_frames.js";

/** A binary given with `--binary`, read, with its split-SP scan when one was needed. */
export interface BinaryInput {
	readonly name: string;
	readonly bin: GoBinary;
}

/** What the split-SP analysis established: facts for the rules, evidence and steps for people. */
export interface SplitSPCheck {
	readonly facts: Map<string, string>;
	readonly evidence: string[];
	readonly steps: string[];
}

/**
 * Orders the preempted goroutines by how surely they are the one being unwound: the goroutine
 * named by `runtime: gN: frame.sp=…`, then the one whose `gp=` is runtime.scanstack's argument.
 */
export function splitSPVictims(crash: Crash): { goroutine: Goroutine; frame: Frame }[] {
	const victims = preemptedVictims(crash);
	const named = new Set<number>();
	for (const line of crash.runtimeLines) {
		const m = /^runtime: g ?(\d+): (?:frame\.sp=|unexpected return pc)/.exec(line);
		if (m?.[1] !== undefined) named.add(Number(m[1]));
	}
	const scanned = new Set<string>();
	const frames = [...crash.runtimeStack, ...crash.goroutines.flatMap((g) => g.frames)];
	for (const f of frames) {
		if (f.function !== "runtime.scanstack" || f.args === null) continue;
		const arg = f.args.split(",")[0]?.trim().replace(/\?$/, "");
		if (arg !== undefined) scanned.add(arg);
	}
	const rank = (g: Goroutine): number =>
		named.has(g.id) ? 0 : g.gp !== null && scanned.has(g.gp) ? 1 : 2;
	return victims.sort((a, b) => rank(a.goroutine) - rank(b.goroutine));
}

function describeVictim(v: { goroutine: Goroutine; frame: Frame }): string {
	const off = v.frame.offset === null ? "" : ` +0x${v.frame.offset.toString(16)}`;
	const pc = v.frame.pc === null ? "" : ` pc=${v.frame.pc}`;
	return `victim goroutine ${v.goroutine.id} [${v.goroutine.stateText}] was asynchronously preempted (runtime.asyncPreempt) in ${formatFrame(v.frame)}${off}${pc}`;
}

function findEntry(bin: GoBinary, name: string): number | undefined {
	const tab = bin.pclntab;
	for (let i = 0; i < tab.nfunc; i++) if (tab.func(i).name === name) return tab.entry(i);
	return undefined;
}

/** The load base of a position-independent binary, from any printed frame with both pc and offset. */
function loadBase(crash: Crash, bin: GoBinary): bigint | undefined {
	const frames = [...crash.runtimeStack, ...crash.goroutines.flatMap((g) => g.frames)];
	for (const f of frames) {
		if (f.pc === null || f.offset === null || f.inlined) continue;
		const entry = findEntry(bin, f.function);
		if (entry !== undefined) return BigInt(f.pc) - BigInt(entry + f.offset);
	}
	return undefined;
}

function windowText(w: SplitSP): string {
	const [a, b] = w.deltas;
	return `${formatPC(w.pc - 4)} ADD $${formatPC(a)}, RSP, RSP; ${formatPC(w.pc)} ADD $${formatPC(b)}, RSP, RSP (frame ${formatPC(w.frameSize)}, ${w.leaf ? "leaf" : "non-leaf"} function)`;
}

/** Names the victim and, with the binary, checks whether its PC is exactly on a split window. */
export function checkSplitSP(
	crash: Crash,
	binary: BinaryInput | undefined,
	scan: () => ScanReport,
): SplitSPCheck {
	const facts = new Map<string, string>();
	const evidence: string[] = [];
	const steps: string[] = [];
	const victims = splitSPVictims(crash);
	for (const v of victims.slice(0, 3)) evidence.push(describeVictim(v));
	if (victims.length === 0) {
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
	let base: bigint | undefined;
	for (const v of victims) {
		const entry = findEntry(binary.bin, v.frame.function);
		if (entry === undefined) {
			evidence.push(`${v.frame.function} is not in ${binary.name}: is it the binary that crashed?`);
			continue;
		}
		let pc: number | undefined;
		if (v.frame.offset !== null) pc = entry + v.frame.offset;
		else if (v.frame.pc !== null) {
			base ??= loadBase(crash, binary.bin);
			if (base !== undefined) pc = Number(BigInt(v.frame.pc) - base);
		}
		if (pc === undefined) continue;
		if (v.frame.pc !== null) {
			const b = BigInt(v.frame.pc) - BigInt(pc);
			if (b !== 0n)
				evidence.push(
					`load base 0x${b.toString(16)} (position-independent binary): printed pc ${v.frame.pc} is ${formatPC(pc)} in ${binary.name}`,
				);
		}
		const windows = report.splitSP.filter((w) => w.function === v.frame.function);
		const hit = windows.find((w) => w.pc === pc);
		const at = `${v.frame.function}+0x${(pc - entry).toString(16)} = ${formatPC(pc)}`;
		if (hit !== undefined) {
			const text = `in ${binary.name} (${report.goVersion}), goroutine ${v.goroutine.id} stopped at ${at}, exactly the second half of a split epilogue: ${windowText(hit)}`;
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
				? `in ${binary.name}, ${v.frame.function} has no split epilogue; goroutine ${v.goroutine.id} stopped at ${at}`
				: `in ${binary.name}, goroutine ${v.goroutine.id} stopped at ${at}, not on one of the function's split windows (${windows.map((w) => formatPC(w.pc)).join(", ")})`;
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
