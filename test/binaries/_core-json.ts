// What `gocrash core --json` and `gocrash parse` say of the same moment, in terms that compare.
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect } from "vitest";
import { parseImage } from "../../src/binary/index.js";
import { dwarfLayout, layoutVersions, runtimeLayout } from "../../src/core/index.js";
import { parseCrashes } from "../../src/traceback/index.js";
import { runGocrash } from "./_cli.js";

const root = new URL("../../", import.meta.url).pathname;

/** The `gocrash core --json` document, as far as the tests read it. */
export interface CoreJson {
	goVersion: string;
	goarch: string;
	layout: "dwarf" | "table";
	threads: { tid: number; pc: string; sp: string; signal: string | null }[];
	signal: { name: string; code: number; addr: string | null; thread: number } | null;
	goroutines: {
		id: number;
		status: string;
		waitReason: string | null;
		frames: { function: string; file: string; line: number; pc: string; sp: string }[];
		createdBy: {
			function: string;
			file: string;
			line: number;
			pc: string;
			goroutine: number | null;
		} | null;
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
		{ state: string; scan: boolean; running: boolean; frames: unknown[]; createdBy: unknown }
	>();
	for (const crash of crashes) {
		for (const g of crash.goroutines) {
			// Goroutine 0 is a thread's g0, printed by the other threads' SIGQUIT dumps; g0s are not
			// in runtime.allgs.
			if (g.id === null || out.has(g.id) || g.id === 0) continue;
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
			const c = g.createdBy;
			const createdBy =
				c === null
					? null
					: {
							function: c.frame.function,
							file: c.frame.file,
							line: c.frame.line,
							goroutine: c.goroutine,
						};
			out.set(g.id, {
				state: g.state,
				scan: g.scan,
				running: g.state === "running",
				frames,
				createdBy,
			});
		}
	}
	return out;
}

/** A goroutine's state as a traceback prints it: the wait reason, else the status. */
export function printedState(g: CoreJson["goroutines"][number]): string {
	return g.waitReason ?? g.status.replace(" (scan)", "");
}

/** The toolchains the core tests build with: every Go Debian has. */
export const CORE_VERSIONS = ["1.19", "1.21", "1.22", "1.23", "1.24", "1.25", "1.26"];

/**
 * Runs `scripts/SCRIPT VERSION ...args` for each of `versions` (all {@link CORE_VERSIONS}) before the file's tests
 * (each prints the path of the binary it ran, its crash text and core beside it); the cores are
 * deleted after them. Returns the binaries by version, filled once the tests run.
 */
export function coresForEachVersion(
	script: string,
	args: readonly string[] = [],
	versions: readonly string[] = CORE_VERSIONS,
): Record<string, string> {
	const binaries: Record<string, string> = {};
	beforeAll(async () => {
		for (const v of versions) {
			const { stdout } = await promisify(execFile)(`${root}scripts/${script}`, [v, ...args], {
				encoding: "utf8",
			});
			binaries[v] = stdout.trim();
		}
	}, 900_000);
	afterAll(() => {
		for (const bin of Object.values(binaries)) rmSync(`${bin}.crash.core`, { force: true });
	});
	return binaries;
}

/**
 * Checks that a core of corecrash's GOTRACEBACK=crash abort holds the goroutines its text printed:
 * the same ids, each in the state printed and with the frames printed, the one running with the
 * abort's frames below them; and that the program's goroutines are in their usual states.
 */
export function expectPrintedGoroutines(
	got: CoreJson,
	want: ReturnType<typeof printedGoroutines>,
	version: string,
): void {
	expect(got.goroutines.map((g) => g.id).sort((a, b) => a - b)).toEqual(
		[...want.keys()].sort((a, b) => a - b),
	);
	const states = new Set(got.goroutines.map(printedState));
	for (const s of [
		"running",
		"chan receive",
		"chan send",
		"select",
		"sleep",
		"syscall",
		version === "1.19" ? "semacquire" : "sync.Mutex.Lock", // Go 1.19's name of a Mutex wait
	]) {
		expect(states).toContain(s);
	}
	for (const g of got.goroutines) {
		const w = want.get(g.id);
		expect(w, `goroutine ${g.id}`).toBeDefined();
		if (w === undefined) continue;
		expect(printedState(g), `goroutine ${g.id}`).toBe(w.state);
		expect(g.status.endsWith(" (scan)")).toBe(w.scan);
		const c = g.createdBy;
		expect(
			c === null
				? null
				: { function: c.function, file: c.file, line: c.line, goroutine: c.goroutine },
			`created by of goroutine ${g.id}`,
		).toEqual(w.createdBy);
		if (w.running) {
			// The text starts at the panic; the core also has the abort below it (fatalpanic, crash,
			// dieFromSignal, raise: on arm64 from the signal context runtime.sigtramp was given).
			expect(g.frames.slice(g.frames.length - w.frames.length)).toEqual(w.frames);
			expect(g.frames[0]?.function).toBe("runtime.raise");
			expect(g.frames.some((f) => f.function === "main.deref")).toBe(true);
		} else {
			expect(g.frames, `goroutine ${g.id}`).toEqual(w.frames);
		}
	}
}

/** Checks that the runtime layout table of Go `version` equals what the DWARF of `bin` says. */
export function expectTableEqualsDwarf(bin: string, version: string): void {
	const minor = Number(version.split(".")[1]);
	expect(layoutVersions).toContain(minor);
	const fromDwarf = dwarfLayout(parseImage(readFileSync(bin)));
	expect(fromDwarf).toBeDefined();
	expect(fromDwarf).toEqual(runtimeLayout(minor));
}
