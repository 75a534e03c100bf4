import { type InferredEnvironment, preemptedVictims, programFrame } from "../diagnose/index.js";
import type { Crash } from "../traceback/index.js";

/**
 * The attributes a crash's text reveals, as [name, value] pairs: `goVersion`, `goarch`, `goos`
 * (from the environment inferred from the text), `module:<path>` with its version (module-cache
 * paths), and, once per function, `preempted` (where goroutines stopped in runtime.asyncPreempt
 * were preempted) and `running` (the top program function of each running goroutine).
 */
export function crashAttributes(
	crash: Crash,
	environment: InferredEnvironment,
): (readonly [string, string])[] {
	const out: (readonly [string, string])[] = [];
	const seen = new Set<string>();
	const add = (name: string, value: string): void => {
		const key = `${name}\0${value}`;
		if (value === "" || seen.has(key)) return;
		seen.add(key);
		out.push([name, value]);
	};
	for (const name of ["goVersion", "goarch", "goos"] as const) {
		const fact = environment[name];
		if (fact !== null) add(name, fact.value);
	}
	for (const m of environment.modules) add(`module:${m.path}`, m.version);
	for (const v of preemptedVictims(crash)) add("preempted", v.frame.function);
	for (const g of crash.goroutines) {
		if (g.state !== "running") continue;
		const frame = programFrame(g);
		if (frame !== undefined) add("running", frame.function);
	}
	return out;
}
