import { goroutineName, signalTitle } from "../traceback/index.js";
import type { Condition, Confidence, Rule, VersionRange } from "./_rule.js";
import { CONFIDENCES } from "./_rule.js";
import { type Fact, framesIn, isCgo, reasonLines, type Subject } from "./_subject.js";
import { formatRange, isInRange } from "./_version.js";

/** Three-valued truth: unknown when the environment does not say. */
export type Truth = "yes" | "no" | "unknown";

/** The outcome of one condition, with the evidence that decided it. */
export interface Outcome {
	readonly truth: Truth;
	readonly evidence: readonly string[];
}

/** A rule that applies to a subject, how sure, and why. */
export interface RuleMatch {
	readonly rule: Rule;
	readonly confidence: Confidence;
	readonly evidence: readonly string[];
	/** What is missing to be surer (unknown environment), in words. */
	readonly unknowns: readonly string[];
}

const patterns = new Map<string, RegExp>();

function regex(source: string): RegExp {
	let re = patterns.get(source);
	if (re === undefined) {
		re = new RegExp(source);
		patterns.set(source, re);
	}
	return re;
}

const yes = (evidence: readonly string[]): Outcome => ({ truth: "yes", evidence });
const no = (evidence: readonly string[] = []): Outcome => ({ truth: "no", evidence });
const unknown = (evidence: readonly string[]): Outcome => ({ truth: "unknown", evidence });

/** Evaluates one condition against a subject. */
export function evaluate(condition: Condition, subject: Subject): Outcome {
	const crash = subject.crash;
	if ("all" in condition) {
		const outs = condition.all.map((c) => evaluate(c, subject));
		if (outs.some((o) => o.truth === "no"))
			return no(outs.flatMap((o) => (o.truth === "no" ? o.evidence : [])));
		const evidence = outs.flatMap((o) => o.evidence);
		return outs.every((o) => o.truth === "yes") ? yes(evidence) : unknown(evidence);
	}
	if ("any" in condition) {
		const outs = condition.any.map((c) => evaluate(c, subject));
		const hits = outs.filter((o) => o.truth === "yes");
		if (hits.length > 0) return yes(hits.flatMap((o) => o.evidence));
		const open = outs.filter((o) => o.truth === "unknown");
		return open.length > 0
			? unknown(open.flatMap((o) => o.evidence))
			: no(outs.flatMap((o) => o.evidence));
	}
	if ("not" in condition) {
		const o = evaluate(condition.not, subject);
		return o.truth === "yes" ? no(o.evidence) : o.truth === "no" ? yes(o.evidence) : o;
	}
	if ("line" in condition) {
		if (crash === null) return no();
		const re = regex(condition.line);
		const hit = reasonLines(crash).find((l) => re.test(l));
		return hit === undefined ? no() : yes([hit]);
	}
	if ("text" in condition) {
		const re = regex(condition.text);
		const lines = crash === null ? subject.notes : [...reasonLines(crash), ...subject.notes];
		const hit = lines.find((l) => re.test(l));
		return hit === undefined ? no() : yes([hit]);
	}
	if ("signal" in condition) {
		const name = crash?.signal?.name;
		return name !== undefined && condition.signal.includes(name)
			? yes([signalText(subject)])
			: no();
	}
	if ("signalCode" in condition) {
		const code = crash?.signal?.code;
		if (code === undefined || code === null) return no();
		const n = Number.parseInt(code, code.startsWith("0x") ? 16 : 10);
		const hit = condition.signalCode.some(
			(c) => Number.parseInt(c, c.startsWith("0x") ? 16 : 10) === n,
		);
		return hit ? yes([`signal code ${code}`]) : no();
	}
	if ("faultAddr" in condition) {
		const addr = crash?.signal?.addr ?? crash?.registers.fault;
		if (addr === undefined || addr === null || !/^0x[0-9a-fA-F]{1,16}$/.test(addr)) return no();
		const value = BigInt(addr);
		const { min, max } = condition.faultAddr;
		if (min !== undefined && value < BigInt(min)) return no();
		if (max !== undefined && value > BigInt(max)) return no();
		return yes([`fault address ${addr}`]);
	}
	if ("frame" in condition) {
		if (crash === null) return no();
		const re = regex(condition.frame);
		const hit = framesIn(crash, condition.in ?? "crashing").find(({ frame }) =>
			re.test(frame.function),
		);
		if (hit === undefined) return no();
		const where = hit.frame.file === null ? "" : ` (${hit.frame.file}:${hit.frame.line ?? "?"})`;
		const who = hit.goroutine === null ? "runtime stack" : `${goroutineName(hit.goroutine)}`;
		return yes([`frame ${hit.frame.function}${where} in ${who}`]);
	}
	if ("goroutine" in condition) {
		if (crash === null) return no();
		const state =
			condition.goroutine.state === undefined ? undefined : regex(condition.goroutine.state);
		const frame =
			condition.goroutine.frame === undefined ? undefined : regex(condition.goroutine.frame);
		for (const g of crash.goroutines) {
			if (state !== undefined && !state.test(g.stateText)) continue;
			const f = frame === undefined ? undefined : g.frames.find((x) => frame.test(x.function));
			if (frame !== undefined && f === undefined) continue;
			return yes([
				`${goroutineName(g)} [${g.stateText}]${f === undefined ? "" : ` in ${f.function}`}`,
			]);
		}
		return no();
	}
	if ("race" in condition) {
		const has = subject.races.length > 0;
		return has === condition.race
			? yes(has ? [`${subject.races.length} data race report(s)`] : [])
			: no();
	}
	if ("cgo" in condition) {
		const has = crash !== null && isCgo(crash);
		const why =
			crash?.signal?.duringCgo === true
				? "signal arrived during cgo execution"
				: "cgo frames in the crashing goroutine";
		return has === condition.cgo ? yes(has ? [why] : []) : no();
	}
	if ("goarch" in condition) {
		const { goarch, goarchExcluded } = subject.environment;
		if (goarch === null && goarchExcluded != null) {
			const { values, source } = goarchExcluded;
			if (condition.goarch.every((v) => values.includes(v)))
				return no([`GOARCH not ${condition.goarch.join(" or ")} (${source})`]);
		}
		return oneOf("GOARCH", goarch, condition.goarch);
	}
	if ("goos" in condition) return oneOf("GOOS", subject.environment.goos, condition.goos);
	if ("goVersion" in condition)
		return inRanges("Go", subject.environment.goVersion, condition.goVersion);
	if ("kernel" in condition)
		return inRanges("kernel", subject.environment.kernel, condition.kernel);
	if ("fact" in condition) {
		const why = subject.facts.get(condition.fact);
		return why === undefined ? no() : yes([why]);
	}
	const status = crash?.exitStatus;
	return status !== undefined && status !== null && condition.exitStatus.includes(status)
		? yes([`exit status ${status}`])
		: no();
}

function signalText(subject: Subject): string {
	const s = subject.crash?.signal;
	if (s === undefined || s === null) return "";
	const parts = [signalTitle(s)];
	if (s.code !== null) parts.push(`code=${s.code}`);
	if (s.addr !== null) parts.push(`addr=${s.addr}`);
	if (s.pc !== null) parts.push(`pc=${s.pc}`);
	return parts.join(" ");
}

function oneOf(name: string, fact: Fact | null, values: readonly string[]): Outcome {
	if (fact === null) return unknown([`${name} unknown (wanted ${values.join(" or ")})`]);
	const hit = values.includes(fact.value);
	const text = `${name} ${fact.value} (${fact.source})`;
	return hit ? yes([text]) : no([text]);
}

function inRanges(name: string, fact: Fact | null, ranges: readonly VersionRange[]): Outcome {
	const wanted = ranges.map(formatRange).join(", ");
	if (fact === null) return unknown([`${name} version unknown (affected: ${wanted})`]);
	const results = ranges.map((r) => isInRange(fact.value, r));
	const text = `${name} ${fact.value} (${fact.source})`;
	if (results.includes(true)) return yes([`${text} is in the affected range ${wanted}`]);
	if (results.includes(undefined))
		return unknown([`${text}: too coarse to tell whether it is in ${wanted}`]);
	return no([`${text} is outside the affected range ${wanted}`]);
}

function step(c: Confidence, by: number): Confidence {
	const i = Math.min(CONFIDENCES.length - 1, Math.max(0, CONFIDENCES.indexOf(c) + by));
	return CONFIDENCES[i] ?? c;
}

/** Matches one rule: undefined when its signature fails or the environment rules it out. */
export function matchRule(rule: Rule, subject: Subject): RuleMatch | undefined {
	const signature = evaluate(rule.match, subject);
	if (signature.truth !== "yes") return undefined;
	const evidence = [...signature.evidence];
	const unknowns: string[] = [];
	for (const requirement of rule.requires) {
		const o = evaluate(requirement, subject);
		if (o.truth === "no") return undefined;
		if (o.truth === "yes") evidence.push(...o.evidence);
		else unknowns.push(...o.evidence);
	}
	let confidence = unknowns.length > 0 ? step(rule.confidence, 1) : rule.confidence;
	for (const a of rule.raise) {
		const o = evaluate(a.when, subject);
		if (o.truth === "yes" && CONFIDENCES.indexOf(a.to) < CONFIDENCES.indexOf(confidence)) {
			confidence = a.to;
			evidence.push(...o.evidence);
		}
	}
	for (const a of rule.lower) {
		const o = evaluate(a.when, subject);
		if (o.truth === "yes" && CONFIDENCES.indexOf(a.to) > CONFIDENCES.indexOf(confidence)) {
			confidence = a.to;
			evidence.push(...o.evidence);
		}
	}
	return { rule, confidence, evidence: [...new Set(evidence)], unknowns };
}

/** Matches every rule, drops rules superseded by a matching one, and orders the rest most certain first. */
export function matchRules(rules: readonly Rule[], subject: Subject): RuleMatch[] {
	const matches = rules.flatMap((r) => matchRule(r, subject) ?? []);
	const superseded = new Set(matches.flatMap((m) => m.rule.supersedes));
	return matches
		.filter((m) => !superseded.has(m.rule.id))
		.map((m, i) => ({ m, i }))
		.sort(
			(a, b) =>
				CONFIDENCES.indexOf(a.m.confidence) - CONFIDENCES.indexOf(b.m.confidence) || a.i - b.i,
		)
		.map(({ m }) => m);
}
