import {
	type Adjustment,
	CATEGORIES,
	type Category,
	CONFIDENCES,
	type Condition,
	type Confidence,
	type Example,
	FRAME_SCOPES,
	type Rule,
	type VersionRange,
} from "./_rule.js";
import { decodeVersion } from "./_version.js";

/** Something wrong in a rule file: where, which rule, and what. */
export interface RuleProblem {
	readonly source: string;
	readonly rule: string | null;
	readonly message: string;
}

/** The rules read from one file and the problems found; a rule with a problem is left out. */
export interface RuleFile {
	readonly rules: Rule[];
	readonly problems: RuleProblem[];
}

const ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_PATTERN = 400;

class Problem extends Error {}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
	return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(o: Json, key: string, where: string): string {
	const v = o[key];
	if (typeof v !== "string" || v === "")
		throw new Problem(`${where}: '${key}' must be a non-empty string`);
	return v;
}

function optStr(o: Json, key: string, where: string): string | null {
	return o[key] === undefined || o[key] === null ? null : str(o, key, where);
}

function strings(o: Json, key: string, where: string): string[] {
	const v = o[key];
	if (v === undefined) return [];
	if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
		throw new Problem(`${where}: '${key}' must be a list of strings`);
	return v;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
	if (typeof value !== "string" || !(allowed as readonly string[]).includes(value))
		throw new Problem(`${what} must be one of ${allowed.join(", ")}, not ${JSON.stringify(value)}`);
	return value as T;
}

/**
 * Rejects patterns that could backtrack for long: a quantified group containing a quantifier,
 * back-references, and overlong sources. Returns the reason, or undefined when the pattern is safe.
 */
export function checkPattern(source: string): string | undefined {
	if (source.length > MAX_PATTERN) return `pattern longer than ${MAX_PATTERN} characters`;
	try {
		new RegExp(source);
	} catch (error) {
		return `invalid regular expression: ${(error as Error).message}`;
	}
	const groups: boolean[] = [];
	let quantifiedInside = false;
	for (let i = 0; i < source.length; i++) {
		const c = source[i];
		if (c === "\\") {
			if (/[1-9k]/.test(source[i + 1] ?? "")) return "back-references are not allowed";
			i++;
			continue;
		}
		if (c === "[") {
			while (i < source.length && source[i] !== "]") i += source[i] === "\\" ? 2 : 1;
			continue;
		}
		if (c === "(") {
			groups.push(quantifiedInside);
			quantifiedInside = false;
		} else if (c === ")") {
			const inner: boolean = quantifiedInside;
			quantifiedInside = groups.pop() ?? false;
			const next = source[i + 1];
			const quantified = next === "*" || next === "+" || next === "{" || next === "?";
			if (inner && quantified && next !== "?")
				return "a quantified group contains a quantifier (may backtrack)";
			quantifiedInside ||= inner || quantified;
		} else if (c === "*" || c === "+" || c === "{") {
			quantifiedInside = true;
		}
	}
	return undefined;
}

function pattern(value: unknown, where: string): string {
	if (typeof value !== "string" || value === "")
		throw new Problem(`${where} must be a non-empty pattern`);
	const bad = checkPattern(value);
	if (bad !== undefined) throw new Problem(`${where} ${JSON.stringify(value)}: ${bad}`);
	return value;
}

function version(value: unknown, where: string): string {
	if (typeof value !== "string" || decodeVersion(value) === undefined)
		throw new Problem(`${where} must be a version like 1.23.12 or 5.4.2`);
	return value;
}

function ranges(value: unknown, where: string): VersionRange[] {
	if (!Array.isArray(value) || value.length === 0)
		throw new Problem(`${where} must be a non-empty list of ranges`);
	return value.map((r, i) => {
		if (!isObject(r)) throw new Problem(`${where}[${i}] must be an object`);
		const out: { min?: string; max?: string; before?: string } = {};
		for (const key of Object.keys(r)) {
			if (key !== "min" && key !== "max" && key !== "before")
				throw new Problem(`${where}[${i}]: unknown key '${key}'`);
			out[key] = version(r[key], `${where}[${i}].${key}`);
		}
		return out;
	});
}

function list(value: unknown, where: string): string[] {
	if (!Array.isArray(value) || value.length === 0 || !value.every((x) => typeof x === "string"))
		throw new Problem(`${where} must be a non-empty list of strings`);
	return value;
}

/** Decodes one condition, checking every pattern. */
export function parseCondition(value: unknown, where: string): Condition {
	if (!isObject(value)) throw new Problem(`${where} must be an object`);
	const keys = Object.keys(value);
	const key = keys.find((k) => k !== "in");
	if (
		key === undefined ||
		keys.length > (key === "frame" ? 2 : 1) ||
		(keys.includes("in") && key !== "frame")
	)
		throw new Problem(`${where} must have exactly one test (got ${keys.join(", ") || "none"})`);
	const v = value[key];
	const at = `${where}.${key}`;
	switch (key) {
		case "all":
		case "any": {
			if (!Array.isArray(v) || v.length === 0) throw new Problem(`${at} must be a non-empty list`);
			const items = v.map((c, i) => parseCondition(c, `${at}[${i}]`));
			return key === "all" ? { all: items } : { any: items };
		}
		case "not":
			return { not: parseCondition(v, at) };
		case "line":
			return { line: pattern(v, at) };
		case "text":
			return { text: pattern(v, at) };
		case "signal":
			return { signal: list(v, at) };
		case "signalCode":
			return { signalCode: list(v, at) };
		case "faultAddr": {
			if (!isObject(v)) throw new Problem(`${at} must be {min, max}`);
			const out: { min?: string; max?: string } = {};
			for (const k of Object.keys(v)) {
				const x = v[k];
				if (
					(k !== "min" && k !== "max") ||
					typeof x !== "string" ||
					!/^0x[0-9a-fA-F]{1,16}$/.test(x)
				)
					throw new Problem(`${at}.${k} must be a hex address bound (min or max)`);
				out[k] = x;
			}
			return { faultAddr: out };
		}
		case "frame": {
			const frame = pattern(v, at);
			if (value.in === undefined) return { frame };
			return { frame, in: oneOf(value.in, FRAME_SCOPES, `${where}.in`) };
		}
		case "goroutine": {
			if (!isObject(v)) throw new Problem(`${at} must be {state, frame}`);
			const out: { state?: string; frame?: string } = {};
			for (const k of Object.keys(v)) {
				if (k !== "state" && k !== "frame") throw new Problem(`${at}: unknown key '${k}'`);
				out[k] = pattern(v[k], `${at}.${k}`);
			}
			return { goroutine: out };
		}
		case "race":
		case "cgo":
			if (typeof v !== "boolean") throw new Problem(`${at} must be true or false`);
			return key === "race" ? { race: v } : { cgo: v };
		case "goarch":
			return { goarch: list(v, at) };
		case "goos":
			return { goos: list(v, at) };
		case "goVersion":
			return { goVersion: ranges(v, at) };
		case "kernel":
			return { kernel: ranges(v, at) };
		case "fact":
			if (typeof v !== "string" || !ID.test(v))
				throw new Problem(`${at} must be a kebab-case fact name`);
			return { fact: v };
		case "exitStatus":
			if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x)))
				throw new Problem(`${at} must be a list of integers`);
			return { exitStatus: v as number[] };
		default:
			throw new Problem(`${where}: unknown test '${key}'`);
	}
}

function adjustments(o: Json, key: string, where: string): Adjustment[] {
	const v = o[key];
	if (v === undefined) return [];
	if (!Array.isArray(v)) throw new Problem(`${where}: '${key}' must be a list`);
	return v.map((a, i) => {
		if (!isObject(a)) throw new Problem(`${where}.${key}[${i}] must be {when, to}`);
		return {
			when: parseCondition(a.when, `${where}.${key}[${i}].when`),
			to: oneOf(a.to, CONFIDENCES, `${where}.${key}[${i}].to`),
		};
	});
}

function examples(v: unknown, where: string): Example[] {
	if (v === undefined) return [];
	if (!Array.isArray(v)) throw new Problem(`${where} must be a list`);
	return v.map((e, i) => {
		const at = `${where}[${i}]`;
		if (!isObject(e)) throw new Problem(`${at} must be an object`);
		const text = Array.isArray(e.text) ? e.text.join("\n") : e.text;
		if (typeof text !== "string" || text === "")
			throw new Problem(`${at}.text must be text or a list of lines`);
		const out: {
			text: string;
			env?: Record<string, string>;
			facts?: string[];
			confidence?: Confidence;
			source?: string;
		} = { text };
		if (e.env !== undefined) {
			if (!isObject(e.env)) throw new Problem(`${at}.env must be an object`);
			const env: Record<string, string> = {};
			for (const [k, x] of Object.entries(e.env)) {
				if (!["goVersion", "goarch", "goos", "kernel"].includes(k) || typeof x !== "string")
					throw new Problem(`${at}.env.${k}: unknown or not a string`);
				env[k] = x;
			}
			out.env = env;
		}
		if (e.facts !== undefined) out.facts = list(e.facts, `${at}.facts`);
		if (e.confidence !== undefined)
			out.confidence = oneOf(e.confidence, CONFIDENCES, `${at}.confidence`);
		if (e.source !== undefined) out.source = str(e, "source", at);
		return out;
	});
}

const RULE_KEYS = new Set([
	"id",
	"title",
	"category",
	"match",
	"requires",
	"confidence",
	"raise",
	"lower",
	"supersedes",
	"analyses",
	"explanation",
	"affected",
	"fixedIn",
	"workarounds",
	"references",
	"examples",
]);

function parseRule(value: unknown, source: string, index: number): Rule {
	const where = `rule ${index}`;
	if (!isObject(value)) throw new Problem(`${where} must be an object`);
	const id = str(value, "id", where);
	if (!ID.test(id)) throw new Problem(`${where}: id '${id}' must be kebab-case`);
	const at = id;
	for (const key of Object.keys(value))
		if (!RULE_KEYS.has(key)) throw new Problem(`${at}: unknown key '${key}'`);
	const requires = value.requires === undefined ? [] : value.requires;
	if (!Array.isArray(requires)) throw new Problem(`${at}.requires must be a list`);
	const ex = value.examples;
	if (!isObject(ex)) throw new Problem(`${at}.examples must be {match: [...], noMatch: [...]}`);
	const rule: Rule = {
		id,
		title: str(value, "title", at),
		category: oneOf<Category>(value.category, CATEGORIES, `${at}.category`),
		match: parseCondition(value.match, `${at}.match`),
		requires: requires.map((c, i) => parseCondition(c, `${at}.requires[${i}]`)),
		confidence: oneOf(value.confidence, CONFIDENCES, `${at}.confidence`),
		raise: adjustments(value, "raise", at),
		lower: adjustments(value, "lower", at),
		supersedes: strings(value, "supersedes", at),
		analyses: strings(value, "analyses", at),
		explanation: str(value, "explanation", at),
		affected: optStr(value, "affected", at),
		fixedIn: strings(value, "fixedIn", at),
		workarounds: strings(value, "workarounds", at),
		references: strings(value, "references", at),
		examples: {
			match: examples(ex.match, `${at}.examples.match`),
			noMatch: examples(ex.noMatch, `${at}.examples.noMatch`),
		},
		source,
	};
	if (rule.examples.match.length === 0)
		throw new Problem(`${at}: needs at least one matching example`);
	if (rule.examples.noMatch.length === 0)
		throw new Problem(`${at}: needs at least one non-matching example`);
	return rule;
}

/** Reads a rule file's JSON (`{"rules": [...]}` or a list of rules); never throws. */
export function parseRuleFile(json: unknown, source: string): RuleFile {
	const list = isObject(json) ? json.rules : json;
	if (!Array.isArray(list)) {
		return {
			rules: [],
			problems: [{ source, rule: null, message: 'expected {"rules": [...]} or a list of rules' }],
		};
	}
	const rules: Rule[] = [];
	const problems: RuleProblem[] = [];
	list.forEach((value, index) => {
		try {
			rules.push(parseRule(value, source, index));
		} catch (error) {
			if (!(error instanceof Problem)) throw error;
			const id = isObject(value) && typeof value.id === "string" ? value.id : null;
			problems.push({ source, rule: id, message: error.message });
		}
	});
	return { rules, problems };
}

/** Merges rule files in order; a later rule with the same id replaces an earlier one (user rules override built-ins). */
export function mergeRules(files: readonly RuleFile[]): RuleFile {
	const byId = new Map<string, Rule>();
	for (const f of files) for (const r of f.rules) byId.set(r.id, r);
	return { rules: [...byId.values()], problems: files.flatMap((f) => f.problems) };
}
