import { describe, expect, it } from "vitest";
import { checkPattern, isInRange, parseRuleFile } from "./index.js";

describe("checkPattern", () => {
	it.each([
		["^fatal error: concurrent map (?:writes|read and map write)"],
		["a+b*"],
		["(?:ab)+"],
		["[(+]+x"],
	])("accepts %s", (p) => expect(checkPattern(p)).toBeUndefined());
	it.each([["(a+)+"], ["(?:x*y)*"], ["(a|b)\\1"], ["("]])("rejects %s", (p) => {
		expect(checkPattern(p)).toBeDefined();
	});
});

describe("isInRange", () => {
	it("compares Go and kernel versions, and says when a version is too coarse", () => {
		expect(isInRange("1.24.5", { min: "1.14", max: "1.24.5" })).toBe(true);
		expect(isInRange("go1.24.6", { max: "1.24.5" })).toBe(false);
		expect(isInRange("1.19", { min: "1.14", max: "1.23.11" })).toBe(true);
		expect(isInRange("1.23", { min: "1.14", max: "1.23.11" })).toBeUndefined();
		expect(isInRange("5.4.0-42-generic", { min: "5.4", max: "5.4.1" })).toBe(true);
		expect(isInRange("5.3.15", { min: "5.2", max: "5.3.14" })).toBe(false);
		expect(isInRange("6.1.0", { before: "5.2" })).toBe(false);
	});
});

describe("parseRuleFile", () => {
	const good = {
		id: "my-cause",
		title: "Mine",
		category: "program-bug",
		match: { line: "^panic: mine" },
		confidence: "likely",
		explanation: "Because.",
		examples: { match: [{ text: "panic: mine" }], noMatch: [{ text: "panic: yours" }] },
	};

	it("reads a valid rule with defaults", () => {
		const { rules, problems } = parseRuleFile({ rules: [good] }, "user.json");
		expect(problems).toEqual([]);
		expect(rules[0]).toMatchObject({
			id: "my-cause",
			requires: [],
			fixedIn: [],
			source: "user.json",
		});
	});

	it("reports problems as data and keeps the good rules", () => {
		const bad = [
			{ ...good, id: "Bad_Id" },
			{ ...good, id: "x1", category: "gremlins" },
			{ ...good, id: "x2", match: { line: "(a+)+" } },
			{ ...good, id: "x3", match: { colour: "red" } },
			{ ...good, id: "x4", examples: { match: [], noMatch: [] } },
			{ ...good, id: "x5", requires: [{ goVersion: [{ min: "banana" }] }] },
		];
		const { rules, problems } = parseRuleFile([good, ...bad], "user.json");
		expect(rules.map((r) => r.id)).toEqual(["my-cause"]);
		expect(problems.map((p) => p.message)).toEqual([
			"rule 1: id 'Bad_Id' must be kebab-case",
			'x1.category must be one of compiler-bug, runtime-bug, kernel-bug, data-race, memory-corruption, resource-limit, environment, program-bug, not "gremlins"',
			'x2.match.line "(a+)+": a quantified group contains a quantifier (may backtrack)',
			"x3.match: unknown test 'colour'",
			"x4: needs at least one matching example",
			"x5.requires[0].goVersion[0].min must be a version like 1.23.12 or 5.4.2",
		]);
		expect(parseRuleFile("nope", "x.json").problems).toHaveLength(1);
	});
});
