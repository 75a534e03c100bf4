import { existsSync, readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseGoBinary } from "../binary/index.js";
import { builtinRulesDir, loadRules } from "../cli/diagnose.js";
import { parseCrashes } from "../traceback/index.js";
import { type BinaryInput, collectNotes, diagnose } from "./index.js";

// Accuracy over every real crash text: the cause each scenario must produce is written down once,
// in test/fixtures/diagnose/expected-causes.json.
const { rules } = await loadRules([builtinRulesDir]);
const fixtures = new URL("../../test/fixtures/", import.meta.url);
const expected: Record<string, string | null> = JSON.parse(
	readFileSync(new URL("diagnose/expected-causes.json", fixtures), "utf8"),
).expected;

interface Case {
	name: string;
	scenario: string;
	text: string;
	binary: string | null;
	confidence: string | null;
}

function collect(dir: URL, prefix: string): Case[] {
	if (!existsSync(dir)) return [];
	const cases: Case[] = [];
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		if (entry.isDirectory()) {
			cases.push(...collect(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`));
			continue;
		}
		if (!entry.name.endsWith(".txt")) continue;
		const metaUrl = new URL(entry.name.replace(/\.txt$/, ".meta.json"), dir);
		if (!existsSync(metaUrl)) continue;
		const meta = JSON.parse(readFileSync(metaUrl, "utf8"));
		cases.push({
			name: `${prefix}${entry.name}`,
			scenario: meta.scenario,
			text: readFileSync(new URL(entry.name, dir), "utf8"),
			binary: typeof meta.binary === "string" ? meta.binary : null,
			confidence: typeof meta.expectConfidence === "string" ? meta.expectConfidence : null,
		});
	}
	return cases;
}

const cases = [
	...collect(new URL("crashes/", fixtures), "crashes/"),
	...collect(new URL("diagnose/", fixtures), "diagnose/"),
];

function binaryFor(c: Case): BinaryInput | undefined {
	if (c.binary === null) return undefined;
	const bytes = gunzipSync(readFileSync(new URL(`diagnose/${c.binary}`, fixtures)));
	return { name: c.binary, bin: parseGoBinary(bytes) };
}

describe("diagnosis of the real crash fixtures", () => {
	it("has fixtures and an expected cause for every scenario", () => {
		expect(cases.length).toBeGreaterThan(0);
		const missing = [...new Set(cases.map((c) => c.scenario))].filter((s) => !(s in expected));
		expect(missing).toEqual([]);
	});

	it("ranks the expected cause first on 100% of the fixtures", () => {
		const wrong: string[] = [];
		for (const c of cases) {
			const binary = binaryFor(c);
			const d = diagnose(parseCrashes(c.text), {
				rules,
				notes: collectNotes(c.text),
				...(binary === undefined ? {} : { binary }),
			});
			const top = d.findings[0];
			const want = expected[c.scenario] ?? null;
			if ((top?.id ?? null) !== want)
				wrong.push(`${c.name}: expected ${want}, got ${top?.id ?? "no finding"}`);
			else if (c.confidence !== null && top?.confidence !== c.confidence)
				wrong.push(`${c.name}: expected ${want} ${c.confidence}, got ${top?.confidence}`);
		}
		const right = cases.length - wrong.length;
		console.log(
			`diagnose accuracy: ${right}/${cases.length} fixtures (${((100 * right) / cases.length).toFixed(1)}%)`,
		);
		expect(wrong).toEqual([]);
	});
});
