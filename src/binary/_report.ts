import type { GoBinary } from "./_binary.js";
import type { Module } from "./_buildinfo.js";
import { hasNonLeafFix } from "./_go-version.js";
import { type FixedEpilogue, type SplitSP, scanSplitSP } from "./_split-sp.js";

/** `affected`: at least one async-preemptible split window in non-assembly code. */
export type Verdict = "affected" | "not-affected";

/** The scan of one binary for the arm64 split-SP bug (golang/go#73259). */
export interface ScanReport {
	readonly format: "elf" | "macho" | "pe";
	readonly goVersion: string;
	readonly goos: string;
	readonly goarch: string;
	readonly main: Module | undefined;
	readonly modules: readonly Module[];
	readonly settings: readonly { key: string; value: string }[];
	readonly functions: number;
	readonly splitSP: readonly SplitSP[];
	readonly fixedEpilogues: readonly FixedEpilogue[];
	readonly verdict: Verdict;
	/** Whether the toolchain has the non-leaf fix; undefined when the version cannot say. */
	readonly nonLeafFix: boolean | undefined;
	/** Distinct functions with at least one preemptible window, leaf and non-leaf apart. */
	readonly hazardousFunctions: {
		readonly leaf: readonly string[];
		readonly nonLeaf: readonly string[];
	};
	/** One-paragraph explanations: why this verdict, and what to do. */
	readonly reasons: readonly string[];
	readonly remedies: readonly string[];
}

const otherArchReasons: Readonly<Record<string, string>> = {
	amd64: "amd64 adjusts SP with one ADDQ $imm32, so an epilogue never splits.",
	"386": "386 adjusts SP with one ADDL $imm32, so an epilogue never splits.",
	riscv64:
		"the riscv64 assembler refuses to split SP-writing instructions (cmd/internal/obj/riscv instructionsForOpImmediate).",
	ppc64: "ppc64 builds large constants in REGTMP and adds them with one instruction.",
	s390x: "s390x pops large frames with one AGFI (32-bit immediate).",
	arm: "32-bit arm folds the frame pop into the return load; its separate tail-call pcsp issue (golang/go#78021) is a different bug.",
};

/** Scans a Go binary and explains the verdict. */
export function scanGoBinary(bin: GoBinary): ScanReport {
	const info = bin.buildInfo;
	const setting = (key: string): string | undefined =>
		info?.settings.find((s) => s.key === key)?.value;
	const goVersion = info?.goVersion ?? "";
	const goarch = setting("GOARCH") ?? bin.arch;
	const goos =
		setting("GOOS") ??
		(bin.format === "macho" ? "darwin" : bin.format === "pe" ? "windows" : "linux");
	const base = {
		format: bin.format,
		goVersion,
		goos,
		goarch,
		main: info?.main,
		modules: info?.deps ?? [],
		settings: info?.settings ?? [],
		functions: bin.pclntab.nfunc,
		nonLeafFix: goarch === "arm64" && goVersion !== "" ? hasNonLeafFix(goVersion) : undefined,
	};
	if (bin.arch !== "arm64") {
		const why =
			otherArchReasons[bin.arch] ??
			"its assembler does not split SP adjustments into two instructions.";
		return {
			...base,
			splitSP: [],
			fixedEpilogues: [],
			verdict: "not-affected",
			hazardousFunctions: { leaf: [], nonLeaf: [] },
			reasons: [`Not affected: the split-SP bug is specific to arm64; ${why}`],
			remedies: [],
		};
	}
	const scan = scanSplitSP(bin.image, bin.pclntab);
	const hazards = scan.splits.filter((s) => s.preemptible && !s.asm);
	const leaf = [...new Set(hazards.filter((s) => s.leaf).map((s) => s.function))];
	const nonLeaf = [...new Set(hazards.filter((s) => !s.leaf).map((s) => s.function))];
	const verdict: Verdict = hazards.length > 0 ? "affected" : "not-affected";
	const version = goVersion === "" ? "an unknown Go version" : goVersion;
	const fix =
		base.nonLeafFix === true
			? `${version} has the non-leaf fix (go1.23.12, go1.24.6, go1.25.0), but leaf functions with frames of 64 KiB and more are still split by every release.`
			: base.nonLeafFix === false
				? `${version} predates the fix (go1.23.12, go1.24.6, go1.25.0): every arm64 epilogue popping a frame in 0x10000–0xFFFFFF that is not a multiple of 0x1000 is split.`
				: `The version (${version}) does not tell whether the toolchain has the non-leaf fix; the code decides.`;
	const reasons = [fix];
	if (verdict === "affected") {
		reasons.push(
			`${hazards.length} async-preemptible split window(s) in ${leaf.length + nonLeaf.length} function(s) (${nonLeaf.length} non-leaf, ${leaf.length} leaf): a goroutine preempted at one of them makes the unwinder read a wrong return address (SIGSEGV in runtime.(*unwinder).next or "traceback did not unwind completely").`,
		);
	} else if (scan.splits.length > 0) {
		reasons.push(
			`${scan.splits.length} split window(s) exist, but none is an async-preemption point in compiled Go code.`,
		);
	} else {
		reasons.push("No SP adjustment is split over two instructions.");
	}
	if (scan.fixedEpilogues.length > 0) {
		reasons.push(
			`${scan.fixedEpilogues.length} epilogue(s) use MOVZ/MOVK R27 + ADD R27, RSP, RSP for split-class frames: evidence of a fixed toolchain.`,
		);
	}
	const remedies: string[] = [];
	if (nonLeaf.length > 0) {
		remedies.push(
			"Non-leaf functions: rebuild with go1.23.12+, go1.24.6+ or go1.25.0+ (the fixed toolchains pop such frames in one instruction).",
		);
	}
	if (leaf.length > 0) {
		remedies.push(
			"Leaf functions: no toolchain fixes these; shrink the frame below 64 KiB (0x10000), move the large buffer to the heap, or make the function non-leaf (a call) and build with a fixed toolchain.",
		);
	}
	if (verdict === "affected") {
		remedies.push(
			"Until then, GODEBUG=asyncpreemptoff=1 removes the asynchronous preemption that exposes the windows (at the cost of preemption latency).",
		);
	}
	return {
		...base,
		splitSP: scan.splits,
		fixedEpilogues: scan.fixedEpilogues,
		verdict,
		hazardousFunctions: { leaf, nonLeaf },
		reasons,
		remedies,
	};
}
