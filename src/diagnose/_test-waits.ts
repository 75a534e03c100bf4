import { type Crash, type Frame, type Goroutine, isStdFrame } from "../traceback/index.js";
import type { AnalysisResult } from "./_analyses.js";
import { formatFrame } from "./_frames.js";

/** Most goroutines named; a hung test's dump can hold thousands. */
const MAX_NAMED = 5;

/** The goroutine `testing` starts to panic when the -timeout alarm fires (testing.go, startAlarm). */
const ALARM = /^testing\.(?:\(\*M\)\.)?startAlarm\b/;

/** A test, benchmark, fuzz test or example function, or a closure in one (`pkg.TestX.func1`). */
const TEST_NAME = /\.(?:Test|Benchmark|Fuzz|Example)[^.]*(?:\.func\d+)*$/;

/** The test function a goroutine runs: the frame testing.tRunner called, or the test that started it. */
function testFunction(g: Goroutine): Frame | undefined {
	const i = g.frames.findIndex((f) => f.function === "testing.tRunner");
	if (i > 0) {
		const test = g.frames[i - 1];
		return test === undefined || isStdFrame(test) ? undefined : test;
	}
	const parent = g.createdBy?.frame;
	return parent !== undefined && TEST_NAME.test(parent.function) ? parent : undefined;
}

/**
 * The first frame outside the runtime: what the goroutine was doing when it parked. Functions
 * the runtime provides to other packages by linkname (`sync.runtime_Semacquire`,
 * `internal/poll.runtime_pollWait`) count as the runtime.
 */
function waitSite(g: Goroutine): Frame | undefined {
	return g.frames.find(
		(f) =>
			f.package !== "runtime" &&
			!f.package.startsWith("internal/") &&
			!f.function.includes(".runtime_"),
	);
}

/** A goroutine of the test harness itself, waiting for its (sub)tests: it names no cause. */
function isHarness(g: Goroutine): boolean {
	return waitSite(g)?.package === "testing";
}

/**
 * Which goroutines to name first: a test's own code, other program code, the harness, then those
 * without minutes. Go prints the minutes only from one minute of waiting on (runtime/traceback.go,
 * goroutineheader): a goroutine without them parked recently, after the test had already hung.
 */
function tier(g: Goroutine): number {
	if (g.waitMinutes === null) return 3;
	if (isHarness(g)) return 2;
	return testFunction(g) === undefined ? 1 : 0;
}

function describeWait(g: Goroutine): string {
	const site = waitSite(g);
	const test = testFunction(g);
	const how =
		g.waitMinutes === null ? `waiting (${g.state})` : `${g.state} for ${g.waitMinutes} minutes`;
	const at = site === undefined ? "" : ` in ${formatFrame(site)}`;
	const harness = isHarness(g) ? ": the test runner waiting for its test to finish" : "";
	const of = test === undefined || test === site ? "" : `, test ${test.function}`;
	return `goroutine ${g.id} [${g.stateText}]: ${how}${at}${of}${harness}`;
}

/** The tests the timeout panic lists under `running tests:` (Go prints each with its running time). */
function runningTests(crash: Crash): string[] {
	for (const p of crash.panics) {
		const lines = p.value.split("\n").map((l) => l.trim());
		const i = lines.indexOf("running tests:");
		if (i >= 0) return lines.slice(i + 1).filter((l) => l !== "");
	}
	return [];
}

/**
 * Why a test hung: the goroutines blocked longest (by the minutes Go prints in their headers), each
 * with its wait reason, the first frame outside the runtime and the test it belongs to; goroutines
 * of the test program's own code before those of the harness waiting for them.
 */
export function testWaits(crash: Crash | null): AnalysisResult {
	if (crash === null) return { evidence: [], steps: [] };
	const evidence: string[] = [];
	const running = runningTests(crash);
	if (running.length > 0) evidence.push(`running tests: ${running.join(", ")}`);
	const blocked = crash.goroutines.filter(
		(g) =>
			g.state !== "running" &&
			!g.frames.some((f) => ALARM.test(f.function)) &&
			!g.state.startsWith("GC ") &&
			g.frames.some((f) => !isStdFrame(f) || f.package === "testing"),
	);
	const longest = blocked.sort(
		(a, b) => tier(a) - tier(b) || (b.waitMinutes ?? 0) - (a.waitMinutes ?? 0),
	);
	for (const g of longest.slice(0, MAX_NAMED)) evidence.push(describeWait(g));
	if (longest.length > MAX_NAMED)
		evidence.push(`… and ${longest.length - MAX_NAMED} more blocked goroutine(s)`);
	const first = longest.find((g) => !isHarness(g) && g.waitMinutes !== null);
	const site = first === undefined ? undefined : waitSite(first);
	const steps =
		first === undefined || site === undefined
			? [
					"No goroutine of the test's own code shows a long wait here: if the text is cut, get the whole dump (go test -timeout 5m 2>&1 | tee log, or kill -QUIT the test binary while it hangs); if it is whole, the test is busy rather than blocked (a loop, or simply too slow for -timeout).",
				]
			: [
					`Start with goroutine ${first.id}: it waits (${first.state}) in ${formatFrame(site)}; find what should have woken it (a send, an unlock, a cancelled context) and why that never came.`,
				];
	return { evidence, steps };
}
