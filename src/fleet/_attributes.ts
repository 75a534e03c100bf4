import { type InferredEnvironment, preemptedVictims, programFrame } from "../diagnose/index.js";
import type { Crash } from "../traceback/index.js";
import { functionName } from "./_frames.js";

/** Adds [name, value] pairs once each, leaving out empty values. */
class Pairs {
	readonly out: Array<readonly [string, string]> = [];
	readonly #seen = new Set<string>();
	add(name: string, value: string): void {
		const key = `${name}\0${value}`;
		if (value === "" || this.#seen.has(key)) return;
		this.#seen.add(key);
		this.out.push([name, value]);
	}
}

function addEnvironment(pairs: Pairs, environment: InferredEnvironment): void {
	for (const name of ["goVersion", "goarch", "goos"] as const) {
		const known = environment[name];
		if (known !== null) pairs.add(name, known.value);
	}
	for (const m of environment.modules) pairs.add(`module:${m.path}`, m.version);
}

/**
 * Attributes of a text's environment, as [name, value] pairs: `goVersion`, `goarch`, `goos` (when
 * the environment knows them) and `module:<path>` = version (from module-cache paths).
 */
export function environmentAttributes(
	environment: InferredEnvironment,
): Array<readonly [string, string]> {
	const pairs = new Pairs();
	addEnvironment(pairs, environment);
	return pairs.out;
}

/**
 * Attributes the text reveals, as [name, value] pairs, multi-valued names repeated, deduplicated:
 * those of `environmentAttributes`, `preempted` (the function each goroutine stopped in
 * runtime.asyncPreempt was preempted in) and `running` (the top program function of each running
 * goroutine).
 */
export function crashAttributes(
	crash: Crash,
	environment: InferredEnvironment,
): Array<readonly [string, string]> {
	const pairs = new Pairs();
	addEnvironment(pairs, environment);
	for (const v of preemptedVictims(crash)) pairs.add("preempted", functionName(v.frame));
	for (const g of crash.goroutines) {
		if (g.state !== "running") continue;
		const frame = programFrame(g);
		if (frame !== undefined) pairs.add("running", functionName(frame));
	}
	return pairs.out;
}
