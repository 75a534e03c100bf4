import { type InferredEnvironment, preemptedVictims, programFrame } from "../diagnose/index.js";
import type { Crash } from "../traceback/index.js";
import { functionName } from "./_frames.js";

/**
 * Attributes the text reveals, as [name, value] pairs, multi-valued names repeated, deduplicated:
 * `goVersion`, `goarch`, `goos` (when the environment knows them), `module:<path>` = version (from
 * module-cache paths), `preempted` (the function each goroutine stopped in runtime.asyncPreempt
 * was preempted in) and `running` (the top program function of each running goroutine).
 */
export function crashAttributes(
	crash: Crash,
	environment: InferredEnvironment,
): Array<readonly [string, string]> {
	const out: Array<readonly [string, string]> = [];
	const seen = new Set<string>();
	const add = (name: string, value: string): void => {
		const key = `${name}\0${value}`;
		if (value === "" || seen.has(key)) return;
		seen.add(key);
		out.push([name, value]);
	};
	for (const name of ["goVersion", "goarch", "goos"] as const) {
		const known = environment[name];
		if (known !== null) add(name, known.value);
	}
	for (const m of environment.modules) add(`module:${m.path}`, m.version);
	for (const v of preemptedVictims(crash)) add("preempted", functionName(v.frame));
	for (const g of crash.goroutines) {
		if (g.state !== "running") continue;
		const frame = programFrame(g);
		if (frame !== undefined) add("running", functionName(frame));
	}
	return out;
}
