import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
	type Example,
	matchRule,
	mergeRules,
	parseRuleFile,
	type Rule,
	type RuleMatch,
} from "../knowledge/index.js";
import { parseCrashes } from "../traceback/index.js";
import { allocationFacts } from "./_analyses.js";
import {
	ANALYSIS_NAMES,
	collectNotes,
	inferEnvironment,
	splitSPVictims,
	victimFacts,
} from "./index.js";

const dir = new URL("../knowledge/rules/", import.meta.url);
const files = readdirSync(dir)
	.filter((f) => f.endsWith(".json"))
	.sort()
	.map((f) => parseRuleFile(JSON.parse(readFileSync(new URL(f, dir), "utf8")), f));
const { rules, problems } = mergeRules(files);

function run(rule: Rule, example: Example): RuleMatch | undefined {
	const result = parseCrashes(example.text);
	const notes = collectNotes(example.text);
	const environment = inferEnvironment(result, notes, example.env ?? {});
	const given = (example.facts ?? []).map((f): [string, string] => [f, `example fact ${f}`]);
	const crashes = result.crashes.length > 0 ? result.crashes : [null];
	for (const crash of crashes) {
		// Facts the text establishes by itself, as diagnose does; those of the binary are given.
		const seen =
			crash === null ? [] : [...victimFacts(splitSPVictims(crash)), ...allocationFacts(crash)];
		const facts = new Map([...seen, ...given]);
		const m = matchRule(rule, { crash, races: result.races, environment, notes, facts });
		if (m !== undefined) return m;
	}
	return undefined;
}

describe("built-in knowledge base", () => {
	it("reads every rule file without problems", () => {
		expect(problems).toEqual([]);
		expect(rules.length).toBeGreaterThanOrEqual(40);
		expect(new Set(rules.map((r) => r.id)).size).toBe(files.flatMap((f) => f.rules).length);
	});

	it("has the contract ids", () => {
		const ids = new Set(rules.map((r) => r.id));
		for (const id of [
			"go-arm64-split-sp-epilogue",
			"linux-kernel-avx-signal-corruption",
			"concurrent-map-access",
			"data-race",
			"nil-pointer-dereference",
			"deadlock",
			"stack-overflow",
			"out-of-memory",
			"cgo-crash",
		]) {
			expect(ids, id).toContain(id);
		}
	});

	it("names only known analyses and superseded rules that exist", () => {
		const ids = new Set(rules.map((r) => r.id));
		for (const r of rules) {
			for (const a of r.analyses) expect(ANALYSIS_NAMES, `${r.id} analysis`).toContain(a);
			for (const s of r.supersedes) expect(ids, `${r.id} supersedes`).toContain(s);
		}
	});
});

describe.each(rules.map((r) => [r.id, r] as const))("rule %s", (_id, rule) => {
	it.each(rule.examples.match.map((e, i) => [i, e] as const))(
		"matches example %i",
		(_i, example) => {
			const m = run(rule, example);
			expect(m, example.text.split("\n")[0]).toBeDefined();
			if (example.confidence !== undefined) expect(m?.confidence).toBe(example.confidence);
		},
	);
	it.each(rule.examples.noMatch.map((e, i) => [i, e] as const))(
		"does not match example %i",
		(_i, example) => {
			expect(run(rule, example)).toBeUndefined();
		},
	);
});
