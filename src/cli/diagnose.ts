import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatPC } from "../binary/index.js";
import { formatPreemption } from "../core/index.js";
import {
	type BinaryMatch,
	type CoreInput,
	type Diagnosis,
	diagnose,
	formatBinaryMismatch,
	type InferredEnvironment,
	NoteCollector,
} from "../diagnose/index.js";
import { mergeRules, parseRuleFile, type RuleFile } from "../knowledge/index.js";
import { scanCrashes } from "../traceback/index.js";
import { readGoBinary } from "./_binary-file.js";
import { readCoreFile } from "./_core-file.js";
import { formatFinding } from "./_finding.js";
import { openInputs } from "./_input.js";
import type { Command } from "./_io.js";
import { InputError, parseCommandArgs, UsageError } from "./_io.js";
import { type Style, styleFor } from "./_style.js";

const usage = `usage: gocrash diagnose [FILE|-] [--binary BIN [--core CORE]] [--go-version V] [--goarch A]
                        [--goos O] [--kernel K] [--rules DIR]... [--json] [--explain]

Explains a Go crash: matches it against the knowledge base of known causes (compiler, runtime and
kernel bugs, data races, memory corruption, resource limits, program bugs) and prints each cause
found with its confidence (confirmed, likely, possible), the evidence used and what to do.

  --binary BIN      the executable that crashed: its buildinfo gives the environment, and for the
                    arm64 split-SP bug the preempted goroutine's PC is checked against the
                    binary's split epilogues (turns 'likely' into 'confirmed'); a binary whose Go
                    version, GOARCH or frames differ from the crash's is reported and not used
  --core CORE       a core file of the same crash (needs --binary; FILE is still the crash text,
                    which says why it crashed): every goroutine the core shows stopped in
                    runtime.asyncPreempt is checked against the split epilogues, so the split-SP
                    bug is confirmed even when the text did not print the victim (arm64)
  --go-version V    Go version that built the program (default: from the text or the binary)
  --goarch A        GOARCH (default: from runtime file names, registers or heap addresses in
                    the text)
  --goos O          GOOS
  --kernel K        kernel version of the machine that crashed, e.g. "$(uname -r)"
  --rules DIR       also read rule files (*.json) from DIR; a rule with a built-in id replaces it
  --json            print one JSON document
  --explain         also print each cause's explanation
`;

/** The directory of the built-in rule files, next to the compiled knowledge module. */
export const builtinRulesDir = fileURLToPath(new URL("../knowledge/rules/", import.meta.url));

/** Reads every `*.json` rule file of the directories, in order, built-ins first. */
export async function loadRules(dirs: readonly string[]): Promise<RuleFile> {
	const files: RuleFile[] = [];
	for (const dir of dirs) {
		const names = (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
		for (const name of names) {
			const path = join(dir, name);
			let json: unknown;
			try {
				json = JSON.parse(await readFile(path, "utf8"));
			} catch (error) {
				const reason = error instanceof Error ? error.message : String(error);
				files.push({
					rules: [],
					problems: [{ source: path, rule: null, message: `not JSON: ${reason}` }],
				});
				continue;
			}
			files.push(parseRuleFile(json, path));
		}
	}
	return mergeRules(files);
}

/** `gocrash diagnose`: why did this crash, and what to do. */
export const diagnoseCommand: Command = {
	name: "diagnose",
	summary: "explain a crash: known causes with confidence, evidence and what to do",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			binary: { type: "string" },
			core: { type: "string" },
			"go-version": { type: "string" },
			goarch: { type: "string" },
			goos: { type: "string" },
			kernel: { type: "string" },
			rules: { type: "string", multiple: true, default: [] },
			json: { type: "boolean", default: false },
			explain: { type: "boolean", default: false },
		});
		if (positionals.length > 1)
			throw new UsageError("give one crash file (or - for standard input)");
		const ruleDirs = [builtinRulesDir, ...values.rules.map((d) => resolve(io.cwd, d))];
		const { rules, problems } = await loadRules(ruleDirs);
		for (const p of problems) {
			io.stderr.write(
				`gocrash diagnose: ${p.source}: ${p.rule === null ? "" : `${p.rule}: `}${p.message}\n`,
			);
		}
		if (rules.length === 0) throw new InputError(`no rules found in ${ruleDirs.join(", ")}`);
		const binary =
			values.binary === undefined
				? undefined
				: { name: values.binary, bin: await readGoBinary(values.binary, io.cwd) };
		if (values.core !== undefined && binary === undefined)
			throw new UsageError("--core needs --binary: the executable that made the core");
		const core =
			values.core === undefined || binary === undefined
				? undefined
				: { name: values.core, report: readCoreFile(binary.bin, values.core, io.cwd) };
		const path = positionals[0] ?? "-";
		const [input] = openInputs([path === "-" ? path : resolve(io.cwd, path)], io);
		if (input === undefined) throw new UsageError("no input");
		const name = path === "-" ? input.name : path;
		const notes = new NoteCollector();
		const decoder = new TextDecoder();
		async function* tee(): AsyncIterable<string> {
			for await (const chunk of (input as NonNullable<typeof input>).chunks()) {
				const text = decoder.decode(chunk, { stream: true });
				notes.write(text);
				yield text;
			}
			const rest = decoder.decode();
			notes.write(rest);
			yield rest;
		}
		const result = await scanCrashes(tee());
		const diagnosis = diagnose(result, {
			rules,
			notes: notes.end(),
			overrides: {
				goVersion: values["go-version"],
				goarch: values.goarch,
				goos: values.goos,
				kernel: values.kernel,
			},
			...(binary === undefined ? {} : { binary }),
			...(core === undefined ? {} : { core }),
		});
		io.stdout.write(
			values.json
				? `${JSON.stringify({ ...toJson(name, diagnosis, rules.length), core: core === undefined ? null : coreJson(core) }, null, 2)}\n`
				: formatDiagnosis(name, diagnosis, styleFor(io.stdout.isTTY, io.env), values.explain),
		);
		return 0;
	},
};

function environmentJson(env: InferredEnvironment): Record<string, unknown> {
	return {
		goVersion: env.goVersion?.value ?? null,
		goarch: env.goarch?.value ?? null,
		goos: env.goos?.value ?? null,
		kernel: env.kernel?.value ?? null,
		goarchExcluded: env.goarchExcluded ?? null,
		sources: {
			goVersion: env.goVersion?.source ?? null,
			goarch: env.goarch?.source ?? null,
			goos: env.goos?.source ?? null,
			kernel: env.kernel?.source ?? null,
		},
		modules: env.modules,
	};
}

function binaryJson(m: BinaryMatch): Record<string, unknown> {
	return {
		name: m.name,
		matches: m.matches,
		differences: m.differences,
		goVersion: m.goVersion,
		goarch: m.goarch,
		frames: m.frames,
		loadBase: m.loadBase === null ? null : formatPC(m.loadBase),
		pie: m.pie,
	};
}

function coreJson(core: CoreInput): Record<string, unknown> {
	const { report } = core;
	return {
		name: core.name,
		goroutines: report.goroutines.length,
		preempted: report.preempted.map((p) => ({
			goroutine: p.goroutine,
			pc: formatPC(p.pc),
			function: p.function,
			onSplitWindow: p.splitSP !== undefined,
			text: formatPreemption(p, report.bias),
		})),
	};
}

function toJson(name: string, d: Diagnosis, ruleCount: number): Record<string, unknown> {
	return {
		input: name,
		findings: d.findings.map((f) => ({
			id: f.id,
			title: f.title,
			category: f.category,
			confidence: f.confidence,
			evidence: f.evidence,
			steps: f.steps,
			explanation: f.explanation,
			affected: f.affected,
			fixedIn: f.fixedIn,
			workarounds: f.workarounds,
			references: f.references,
			unknowns: f.unknowns,
		})),
		environment: environmentJson(d.environment),
		binary: d.binary === null ? null : binaryJson(d.binary),
		crashes: d.crashes,
		races: d.races,
		rules: ruleCount,
	};
}

function describeEnvironment(env: InferredEnvironment): string {
	const parts: string[] = [];
	if (env.goVersion !== null) parts.push(`Go ${env.goVersion.value}`);
	const notArm64 =
		env.goarch === null && env.goarchExcluded?.values.includes("arm64") === true
			? "not arm64"
			: null;
	if (env.goos !== null || env.goarch !== null)
		parts.push(`${env.goos?.value ?? "?"}/${env.goarch?.value ?? notArm64 ?? "?"}`);
	else if (notArm64 !== null) parts.push(notArm64);
	if (env.kernel !== null) parts.push(`kernel ${env.kernel.value}`);
	return parts.length === 0 ? "environment unknown" : parts.join(", ");
}

function formatDiagnosis(name: string, d: Diagnosis, style: Style, explain: boolean): string {
	const what = `${d.crashes} crash${d.crashes === 1 ? "" : "es"}${d.races > 0 ? `, ${d.races} race report${d.races === 1 ? "" : "s"}` : ""}`;
	const mismatch =
		d.binary === null || d.binary.matches
			? ""
			: `\n${style.yellow(formatBinaryMismatch(d.binary))}`;
	const head = `${style.bold(name)}: ${what}; ${describeEnvironment(d.environment)}${mismatch}`;
	if (d.findings.length === 0) {
		return `${head}\nNo known cause matched. Run 'gocrash parse' to read the crash, or add a rule (--rules DIR).\n`;
	}
	return `${head}\n\n${d.findings.map((f) => formatFinding(f, style, explain)).join("\n\n")}\n`;
}
