import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Crash, Frame, Goroutine, ParseResult, RaceReport } from "../src/index.js";

/** Root of the captured crash fixtures (see test/fixtures/crashes/README.md). */
export const CRASH_FIXTURES = new URL("./fixtures/crashes/", import.meta.url).pathname;

/** What the crash generator knew about one run (test/crashgen/expect.go). */
export interface Expectation {
	scenario: string;
	goVersion: string;
	goarch: string;
	kind: "panic" | "fatal" | "fatal-scheduler" | "throw" | "signal" | "race";
	message: string | null;
	messageMatch?: "exact" | "prefix";
	lines?: string[];
	goroutines: number[];
	crashingGoroutine: number | null;
	crashingCandidates?: number[];
	minGoroutines: number;
	createdBy?: Record<string, number>;
	groups?: Record<string, number[]>;
	ancestors?: Record<string, number[]>;
	elided?: "middle" | "end" | "truncated";
	interleavedWith?: string;
	contains?: string[];
	races?: number;
	raceGoroutines?: number[];
	raceMainGoroutine?: boolean;
	raceGlobal?: string;
	loggedGoroutines?: number[];
	exitCode: number | null;
}

/** One captured fixture: its text path, the text, and its meta data. */
export interface Fixture {
	name: string;
	path: string;
	text: string;
	meta: {
		scenario: string;
		goVersion: string;
		goarch: string;
		gotraceback: string;
		exitStatus: number | null;
		exitSignal: string;
		verified: boolean;
		/** Null when the generator died before it could write what it knew. */
		expect: Expectation | null;
	};
}

/** Lists every fixture `.txt` with its `.meta.json`, in a stable order. */
export function listCrashFixtures(): Fixture[] {
	const fixtures: Fixture[] = [];
	for (const dir of readdirSync(CRASH_FIXTURES, { withFileTypes: true })) {
		if (!dir.isDirectory()) continue;
		for (const file of readdirSync(join(CRASH_FIXTURES, dir.name)).sort()) {
			if (!file.endsWith(".txt")) continue;
			const path = join(CRASH_FIXTURES, dir.name, file);
			const meta = JSON.parse(readFileSync(path.replace(/\.txt$/, ".meta.json"), "utf8"));
			fixtures.push({
				name: `${dir.name}/${file.slice(0, -4)}`,
				path,
				text: readFileSync(path, "utf8"),
				meta,
			});
		}
	}
	return fixtures.sort((a, b) => a.name.localeCompare(b.name));
}

/** The data a parse must agree on whatever a log pipeline did to the text: no line numbers. */
export function projectResult(result: ParseResult): unknown {
	return {
		crashes: result.crashes.map(projectCrash),
		races: result.races.map(projectRace),
	};
}

function projectCrash(c: Crash): unknown {
	return {
		kind: c.kind,
		message: c.message,
		panics: c.panics,
		fatal: c.fatal,
		signal: c.signal,
		runtimeLines: c.runtimeLines,
		panicDuringPanic: c.panicDuringPanic,
		stackDumps: c.stackDumps,
		runtimeStack: c.runtimeStack.map(projectFrame),
		registers: c.registers,
		threads: c.threads,
		goroutines: c.goroutines.map(projectGoroutine),
		exitStatus: c.exitStatus,
		exitSignal: c.exitSignal,
		truncated: c.truncated,
	};
}

function projectGoroutine(g: Goroutine): unknown {
	return {
		id: g.id,
		stateText: g.stateText,
		gp: g.gp,
		m: g.m,
		mp: g.mp,
		frames: g.frames.map(projectFrame),
		elided: g.elided,
		stackUnavailable: g.stackUnavailable,
		createdBy:
			g.createdBy === null
				? null
				: { frame: projectFrame(g.createdBy.frame), goroutine: g.createdBy.goroutine },
		ancestors: g.ancestors.map((a) => ({ id: a.id, frames: a.frames.map(projectFrame) })),
	};
}

function projectRace(r: RaceReport): unknown {
	return {
		accesses: r.accesses.map((a) => ({ ...a, frames: a.frames.map(projectFrame) })),
		goroutines: r.goroutines.map((g) => ({ ...g, frames: g.frames.map(projectFrame) })),
		location: r.location,
		truncated: r.truncated,
	};
}

function projectFrame(f: Frame): string {
	const at = f.offset === null ? "" : ` +0x${f.offset.toString(16)}`;
	const regs = f.pc === null ? "" : ` fp=${f.fp} sp=${f.sp} pc=${f.pc}`;
	return `${f.function}(${f.args ?? ""}) ${f.file}:${f.line}${at}${regs}`;
}
