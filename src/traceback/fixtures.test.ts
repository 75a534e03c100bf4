import { describe, expect, test } from "vitest";
import {
	type Expectation,
	type Fixture,
	listCrashFixtures,
	projectResult,
} from "../../test/_fixtures.js";
import type { Crash, ParseResult } from "./index.js";
import { parseCrashes } from "./index.js";

const fixtures = listCrashFixtures();

describe("real crash output from test/crashgen, every toolchain and architecture", () => {
	test("the corpus covers every toolchain, both architectures and at least 25 scenarios", () => {
		const versions = new Set(
			fixtures.map((f) => f.meta.goVersion.replace(/^go(\d+\.\d+).*/, "$1")),
		);
		expect([...versions].sort()).toEqual(["1.19", "1.21", "1.22", "1.23", "1.24", "1.25", "1.26"]);
		expect(new Set(fixtures.map((f) => f.meta.goarch))).toEqual(new Set(["amd64", "arm64"]));
		expect(new Set(fixtures.map((f) => f.meta.scenario)).size).toBeGreaterThanOrEqual(25);
	});

	test.each(fixtures.map((f) => [f.name, f] as const))("%s", async (_, fixture) => {
		const result = parseCrashes(fixture.text);
		await expect(`${JSON.stringify(projectResult(result), null, 1)}\n`).toMatchFileSnapshot(
			fixture.path.replace(/\.txt$/, ".golden.json"),
		);
		checkExpectation(fixture, result);
	});
});

const header = /^goroutine \d+ (?:[a-z]+=\S+ )*\[[^\]\n]*\]:$/gm;

/** Checks the parse against what the generator knew it started, independently of the golden file. */
function checkExpectation(fixture: Fixture, result: ParseResult): void {
	if (fixture.meta.expect?.interleavedWith === undefined) {
		// Every goroutine header in the text is read, except those inside panic values, which
		// go1.23+ indents with a tab (so they do not match) and older versions print as they are.
		const indented = minor(fixture.meta.goVersion) >= 23;
		const inValues = indented
			? []
			: result.crashes.flatMap((c) => c.panics.flatMap((p) => p.value.match(header) ?? []));
		const headers = (fixture.text.match(header) ?? []).length - inValues.length;
		expect(result.crashes.reduce((n, c) => n + c.goroutines.length, 0)).toBe(headers);
	}
	const exp = fixture.meta.expect;
	if (exp === null) {
		// The generator died before writing what it knew: only the golden file speaks for it.
		expect(fixture.meta.verified).toBe(false);
		return;
	}
	const allowed =
		exp.interleavedWith === undefined ? ["truncated"] : ["truncated", "interleaved-output"];
	expect(result.issues.filter((i) => !allowed.includes(i.code))).toEqual([]);
	if (exp.kind === "race") {
		checkRaces(exp, result);
		return;
	}
	const crash = findCrash(exp, result.crashes);
	const ids = crash.goroutines.map((g) => g.id);
	expect(ids).toEqual(expect.arrayContaining(exp.goroutines));
	expect(crash.goroutineCount).toBe(crash.goroutines.length);
	expect(crash.goroutines.length).toBeGreaterThanOrEqual(exp.minGoroutines);

	if (exp.crashingGoroutine !== null) expect(ids[0]).toBe(exp.crashingGoroutine);
	if (crash.message?.startsWith("panic: ")) {
		// The crash starts at its panic line, even one that other output was cut into.
		const lines = fixture.text.split("\n");
		const at = lines.findIndex((l) => l.startsWith("panic: "));
		expect(crash.startLine).toBe(at + 1);
	}
	if (exp.crashingCandidates !== undefined) expect(exp.crashingCandidates).toContain(ids[0]);
	for (const line of exp.lines ?? []) {
		if (line.startsWith("[signal ")) expect(crash.signal?.name).toBe(line.slice(8).split(":")[0]);
	}
	for (const [child, parent] of Object.entries(exp.createdBy ?? {})) {
		const goroutine = crash.goroutines.find((g) => g.id === Number(child));
		if (goroutine === undefined) continue;
		expect(goroutine.createdBy).not.toBeNull();
		if (minor(exp.goVersion) >= 21) expect(goroutine.createdBy?.goroutine).toBe(parent);
	}
	for (const [id, ancestors] of Object.entries(exp.ancestors ?? {})) {
		const goroutine = crash.goroutines.find((g) => g.id === Number(id));
		if (goroutine !== undefined) expect(goroutine.ancestors.map((a) => a.id)).toEqual(ancestors);
	}
	if (exp.elided === "truncated") {
		// Before go1.21 a deep stack is cut at 100 frames, with a marker only at some levels.
		expect(crash.goroutines[0]?.elided).toEqual([]);
	} else if (exp.elided !== undefined) {
		const elided = crash.goroutines[0]?.elided ?? [];
		expect(elided).toHaveLength(1);
		expect(elided[0]?.count === null).toBe(exp.elided === "end");
	}
	for (const id of exp.loggedGoroutines ?? []) {
		const logged = result.crashes.find(
			(c) => c.kind === "http-panic" && c.goroutines.some((g) => g.id === id),
		);
		expect(logged, `logged goroutine ${id}`).toBeDefined();
	}
	const last = result.crashes.at(-1);
	if (fixture.meta.exitStatus !== null) expect(last?.exitStatus).toBe(fixture.meta.exitStatus);
	else expect(last?.exitSignal).not.toBeNull();
	expect(crash.truncated).toBe(false);
}

function checkRaces(exp: Expectation, result: ParseResult): void {
	expect(result.races).toHaveLength(exp.races ?? 0);
	expect(result.raceCount).toBe(exp.races ?? null);
	const named = result.races.flatMap((r) =>
		r.accesses.map((a) => a.goroutine).filter((g) => g !== null),
	);
	expect(named).toEqual(expect.arrayContaining(exp.raceGoroutines ?? []));
	if (exp.raceMainGoroutine === true) {
		expect(result.races.some((r) => r.accesses.some((a) => a.mainGoroutine))).toBe(true);
	}
	if (exp.raceGlobal !== undefined) {
		expect(result.races.some((r) => r.location?.includes(`global '${exp.raceGlobal}'`))).toBe(true);
	}
	for (const race of result.races) {
		expect(race.truncated).toBe(false);
		for (const access of race.accesses)
			expect(access.frames.length > 0 || access.failedToRestore).toBe(true);
	}
}

function findCrash(exp: Expectation, crashes: readonly Crash[]): Crash {
	const wanted = exp.message;
	const crash = crashes.find((c) => {
		if (wanted === null) return true;
		if (c.message === null) return false;
		return exp.messageMatch === "prefix" ? c.message.startsWith(wanted) : c.message === wanted;
	});
	expect(crash, `a crash with message ${JSON.stringify(wanted)}`).toBeDefined();
	return crash as Crash;
}

function minor(goVersion: string): number {
	return Number(/^go1\.(\d+)/.exec(goVersion)?.[1] ?? 0);
}
