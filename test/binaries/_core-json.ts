// What `gocrash core --json` and `gocrash parse` say of the same moment, in terms that compare.
import { expect } from "vitest";
import { parseCrashes } from "../../src/traceback/index.js";
import { runGocrash } from "./_cli.js";

const root = new URL("../../", import.meta.url).pathname;

/** The `gocrash core --json` document, as far as the tests read it. */
export interface CoreJson {
	goVersion: string;
	goarch: string;
	threads: { tid: number; pc: string; sp: string; signal: string | null }[];
	signal: { name: string; code: number; addr: string | null; thread: number } | null;
	goroutines: {
		id: number;
		status: string;
		waitReason: string | null;
		frames: { function: string; file: string; line: number; pc: string; sp: string }[];
	}[];
}

/** Runs `gocrash core --json BIN FILE` from the repository root and parses its output. */
export async function readCoreJson(bin: string, file: string): Promise<CoreJson> {
	const r = await runGocrash(["core", "--json", bin, file], { cwd: root });
	expect(r.stderr).toBe("");
	expect(r.code).toBe(0);
	return JSON.parse(r.stdout) as CoreJson;
}

/**
 * What the text says of each goroutine, in the JSON's terms: inlined frames (printed without
 * pc= and sp=) take those of the frame they were inlined into.
 */
export function printedGoroutines(text: string) {
	const crashes = parseCrashes(text).crashes;
	expect(crashes.length).toBeGreaterThan(0);
	const out = new Map<
		number,
		{ state: string; scan: boolean; running: boolean; frames: unknown[] }
	>();
	for (const crash of crashes) {
		for (const g of crash.goroutines) {
			// Goroutine 0 is a thread's g0, printed by the other threads' SIGQUIT dumps; g0s are not
			// in runtime.allgs.
			if (out.has(g.id) || g.id === 0) continue;
			const frames: {
				function: string;
				file: string | null;
				line: number | null;
				pc: string;
				sp: string;
			}[] = [];
			let pending: { function: string; file: string | null; line: number | null }[] = [];
			for (const f of g.frames) {
				const at = { function: f.function, file: f.file, line: f.line };
				if (f.inlined) {
					pending.push(at);
					continue;
				}
				for (const p of [...pending, at]) frames.push({ ...p, pc: f.pc ?? "", sp: f.sp ?? "" });
				pending = [];
			}
			out.set(g.id, { state: g.state, scan: g.scan, running: g.state === "running", frames });
		}
	}
	return out;
}

/** A goroutine's state as a traceback prints it: the wait reason, else the status. */
export function printedState(g: CoreJson["goroutines"][number]): string {
	return g.waitReason ?? g.status.replace(" (scan)", "");
}
