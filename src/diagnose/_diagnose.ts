import { type ScanReport, scanGoBinary } from "../binary/index.js";
import {
	type Category,
	CONFIDENCES,
	type Confidence,
	matchRules,
	type Rule,
	type Subject,
} from "../knowledge/index.js";
import type { Crash, ParseResult } from "../traceback/index.js";
import { allocationFacts, runAnalysis } from "./_analyses.js";
import { type BinaryMatch, matchBinary } from "./_binary-match.js";
import {
	type EnvironmentOverrides,
	type InferredEnvironment,
	inferEnvironment,
} from "./_environment.js";
import {
	type BinaryInput,
	type CoreInput,
	checkSplitSP,
	hasSplitSPSignature,
} from "./_split-sp.js";

/** One explained cause of the crash. */
export interface Finding {
	readonly id: string;
	readonly title: string;
	readonly category: Category;
	readonly confidence: Confidence;
	readonly evidence: readonly string[];
	/** What to do now, specific to this crash (from the analyses), before the rule's general workarounds. */
	readonly steps: readonly string[];
	readonly explanation: string;
	readonly affected: string | null;
	readonly fixedIn: readonly string[];
	readonly workarounds: readonly string[];
	readonly references: readonly string[];
	/** Environment the rule needs that is not known; saying it would make the finding surer. */
	readonly unknowns: readonly string[];
}

/** The diagnosis of one input: findings most certain first, and the environment used. */
export interface Diagnosis {
	readonly findings: readonly Finding[];
	readonly environment: InferredEnvironment;
	readonly crashes: number;
	readonly races: number;
	/** How the binary given compares with the crash; null without one. Used only when it matches. */
	readonly binary: BinaryMatch | null;
}

/** What `diagnose` needs besides the parsed text. */
export interface DiagnoseOptions {
	readonly rules: readonly Rule[];
	/** Unindented lines of the input (see NoteCollector). */
	readonly notes?: readonly string[];
	readonly overrides?: EnvironmentOverrides;
	readonly binary?: BinaryInput;
	/** A core of the crash, read with `binary`: its preempted goroutines are split-SP evidence. */
	readonly core?: CoreInput;
}

/** Explains a parsed crash text with the rules: which known causes match, how surely, and why. */
export function diagnose(result: ParseResult, options: DiagnoseOptions): Diagnosis {
	const notes = options.notes ?? [];
	const given = options.binary;
	const match = given === undefined ? null : matchBinary(result, notes, given.name, given.bin);
	const binary = match?.matches === true ? given : undefined;
	let report: ScanReport | undefined;
	const scan = (): ScanReport => {
		report ??= scanGoBinary((binary as BinaryInput).bin);
		return report;
	};
	const binaryEnv =
		binary === undefined
			? undefined
			: (() => {
					const info = binary.bin.buildInfo;
					const setting = (k: string): string | undefined =>
						info?.settings.find((s) => s.key === k)?.value;
					return {
						name: binary.name,
						goVersion: info?.goVersion ?? "",
						goarch: setting("GOARCH") ?? binary.bin.arch,
						goos:
							setting("GOOS") ??
							(binary.bin.format === "macho"
								? "darwin"
								: binary.bin.format === "pe"
									? "windows"
									: "linux"),
					};
				})();
	const environment = inferEnvironment(result, notes, options.overrides, binaryEnv);
	// A panic net/http recovered and logged did not end the process: what the other crashes say
	// comes first, at the same confidence.
	const recovered = (c: Crash) => c.kind === "http-panic";
	const subjects: (Crash | null)[] =
		result.crashes.length > 0
			? [...result.crashes.filter((c) => !recovered(c)), ...result.crashes.filter(recovered)]
			: [null];
	const merged = new Map<string, Finding>();
	const supersededBy = new Map<string, readonly string[]>();
	for (const crash of subjects) {
		const split =
			crash !== null && hasSplitSPSignature(crash)
				? checkSplitSP(crash, binary, match?.loadBase ?? null, scan, options.core)
				: undefined;
		const subject: Subject = {
			crash,
			races: result.races,
			environment,
			notes,
			facts: new Map([...allocationFacts(crash), ...(split?.facts ?? [])]),
		};
		for (const m of matchRules(options.rules, subject)) {
			const evidence = [...m.evidence];
			const steps: string[] = [];
			for (const name of m.rule.analyses) {
				const a =
					name === "split-sp-victim"
						? (split ?? { evidence: [], steps: [] })
						: runAnalysis(name, { crash, races: result.races, environment });
				evidence.push(...a.evidence);
				steps.push(...a.steps);
			}
			const finding: Finding = {
				id: m.rule.id,
				title: m.rule.title,
				category: m.rule.category,
				confidence: m.confidence,
				evidence: [...new Set(evidence)],
				steps: [...new Set(steps)],
				explanation: m.rule.explanation,
				affected: m.rule.affected,
				fixedIn: m.rule.fixedIn,
				workarounds: m.rule.workarounds,
				references: m.rule.references,
				unknowns: m.unknowns,
			};
			supersededBy.set(finding.id, m.rule.supersedes);
			const old = merged.get(finding.id);
			merged.set(finding.id, old === undefined ? finding : mergeFindings(old, finding));
		}
	}
	// A specific cause found in one crash of the input explains the generic ones found in another
	// (a crash while printing the first crash, for example).
	const superseded = new Set([...supersededBy.values()].flat());
	const findings = [...merged.values()]
		.filter((f) => !superseded.has(f.id))
		.map((f, i) => ({ f, i }))
		.sort(
			(a, b) =>
				CONFIDENCES.indexOf(a.f.confidence) - CONFIDENCES.indexOf(b.f.confidence) || a.i - b.i,
		)
		.map(({ f }) => f);
	return {
		findings,
		environment,
		crashes: result.crashes.length,
		races: result.races.length,
		binary: match,
	};
}

function mergeFindings(a: Finding, b: Finding): Finding {
	const surer = CONFIDENCES.indexOf(b.confidence) < CONFIDENCES.indexOf(a.confidence) ? b : a;
	return {
		...surer,
		evidence: [...new Set([...a.evidence, ...b.evidence])],
		steps: [...new Set([...a.steps, ...b.steps])],
		unknowns: surer.unknowns,
	};
}
