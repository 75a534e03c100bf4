import type { Environment } from "../knowledge/index.js";
import { crashingGoroutine, isInRange } from "../knowledge/index.js";
import {
	type Crash,
	type Frame,
	type Goroutine,
	goroutineName,
	isProgramFrame,
	panicOrigin,
	type RaceReport,
	raceAccessTitle,
} from "../traceback/index.js";
import { formatFrame, programFrame } from "./_frames.js";
import { testWaits } from "./_test-waits.js";

/** What an analysis adds to a finding: evidence lines and steps to take. */
export interface AnalysisResult {
	readonly evidence: readonly string[];
	readonly steps: readonly string[];
}

/** Everything an analysis may look at. */
export interface AnalysisContext {
	readonly crash: Crash | null;
	readonly races: readonly RaceReport[];
	readonly environment: Environment;
}

const MAP_FUNCTION =
	/^(?:runtime\.map[a-z]|runtime\.(?:evacuate|growWork)|internal\/runtime\/maps\.|maps\.clone)/;

function mapOperation(fn: string): string {
	if (/assign|put|Put/.test(fn)) return "writing";
	if (/delete|Delete/.test(fn)) return "deleting from";
	if (/iter|Iter/.test(fn)) return "iterating over";
	if (/clone|Clone/.test(fn)) return "cloning";
	if (/clear|Clear/.test(fn)) return "clearing";
	return "reading";
}

function mapAccessSites(ctx: AnalysisContext): AnalysisResult {
	const crash = ctx.crash;
	if (crash === null) return { evidence: [], steps: [] };
	const evidence: string[] = [];
	const crashing = crashingGoroutine(crash);
	let others = 0;
	for (const g of crash.goroutines) {
		const mapFrames = g.frames.filter(
			(f) => MAP_FUNCTION.test(f.function) && !/\.(?:fatal|throw)$/.test(f.function),
		);
		const inMap = g.frames.some((f) => MAP_FUNCTION.test(f.function));
		const caller = programFrame(g);
		if (caller === undefined) continue;
		const via = mapFrames.at(-1);
		const doing =
			via === undefined
				? "in a map operation"
				: `${mapOperation(via.function)} a map (${via.function})`;
		if (g === crashing) {
			evidence.push(
				`map access site: ${goroutineName(g)} [${g.stateText}] was ${doing} at ${formatFrame(caller)}: the runtime's check fired here`,
			);
		} else if (inMap) {
			others++;
			evidence.push(
				`map access site: ${goroutineName(g)} [${g.stateText}] was ${doing} at ${formatFrame(caller)}`,
			);
		} else if ((g.state === "running" || g.state === "runnable") && g.frames[0] === caller) {
			others++;
			evidence.push(
				`candidate other side: ${goroutineName(g)} [${g.stateText}] was running program code at ${formatFrame(caller)} (map operations are often inlined, so no map frame shows)`,
			);
		}
	}
	const steps: string[] = [];
	if (others === 0) {
		steps.push(
			crash.goroutines.length <= 1
				? "Only the crashing goroutine was printed: run with GOTRACEBACK=all to see the goroutine on the other side, or run the tests with -race to get both accesses."
				: "The other access is not visible in this dump: run the tests with -race to get both accesses with their stacks.",
		);
	}
	if (evidence.length > 0)
		steps.push(
			"Protect every site listed with the same mutex (or give the map one owner goroutine).",
		);
	return { evidence, steps };
}

function describeAccess(r: RaceReport): string[] {
	return r.accesses.map((a) => {
		const frame = a.frames.find(isProgramFrame) ?? a.frames[0];
		const at = frame === undefined ? "(stack not restored)" : formatFrame(frame);
		return `${raceAccessTitle(a)}: ${at}`;
	});
}

function raceAccesses(ctx: AnalysisContext): AnalysisResult {
	const evidence: string[] = [];
	ctx.races.slice(0, 5).forEach((r, i) => {
		const lines = describeAccess(r);
		evidence.push(
			`race ${i + 1}: ${lines.join("; ")}${r.location === null ? "" : `; ${r.location}`}`,
		);
	});
	if (ctx.races.length > 5) evidence.push(`… and ${ctx.races.length - 5} more race report(s)`);
	// The data-race rule says what to do about them.
	return { evidence, steps: [] };
}

function programFrameAnalysis(ctx: AnalysisContext): AnalysisResult {
	const g = ctx.crash === null ? undefined : crashingGoroutine(ctx.crash);
	if (g === undefined) return { evidence: [], steps: [] };
	const origin = panicOrigin(g.frames, ctx.crash?.panics ?? []);
	const frame = origin >= 0 ? g.frames[origin] : programFrame(g);
	if (frame !== undefined)
		return { evidence: [`program frame: ${formatFrame(frame)} in ${goroutineName(g)}`], steps: [] };
	// Only a whole stack proves that the program's code is not on it.
	const name = goroutineName(g);
	const count = g.frames.length;
	const evidence =
		count === 0
			? `${name} has no frames in the text`
			: isCutOff(g, ctx.crash)
				? `no frame of the program's own code in the ${count} frame${count === 1 ? "" : "s"} of ${name} that the text has (it is cut off)`
				: `no frame of the program's own code in ${name}`;
	return { evidence: [evidence], steps: [] };
}

/** Whether the text cuts a goroutine's stack off: it ends inside it, or a frame has no file line. */
function isCutOff(g: Goroutine, crash: Crash | null): boolean {
	if (g.frames.at(-1)?.file === null) return true;
	return crash?.truncated === true && crash.goroutines.at(-1) === g && g.createdBy === null;
}

/** Bytes of one allocation that no heap grows by at once: ten gigabytes. */
const HUGE_ALLOCATION = 10_000_000_000;

/**
 * What the text establishes about memory by itself: one allocation far beyond the heap in use
 * (`allocation-far-beyond-heap`: at least ten gigabytes and eight times the heap), which a
 * size computed from bad data asks for, not a heap that grew.
 */
export function allocationFacts(crash: Crash | null): Map<string, string> {
	const facts = new Map<string, string>();
	for (const line of crash?.runtimeLines ?? []) {
		const m =
			/^runtime: out of memory: cannot allocate (\d{1,20})-byte block \((\d{1,20}) in use\)/.exec(
				line,
			);
		if (m === null) continue;
		const block = Number(m[1]);
		const inUse = Number(m[2]);
		if (block >= HUGE_ALLOCATION && block >= 8 * inUse)
			facts.set(
				"allocation-far-beyond-heap",
				`one allocation of ${block} bytes asked for with ${inUse} in use (${line})`,
			);
	}
	return facts;
}

/** Test frameworks whose frames stand between a failed assertion and the test's own code. */
const ASSERTION_FRAMEWORK = /(?:^|\/vendor\/)github\.com\/onsi\/(?:ginkgo|gomega)(?:\/|$)/;

// Where a failed assertion is: the first program frame outside Ginkgo and Gomega.
function assertionSite(ctx: AnalysisContext): AnalysisResult {
	const g = ctx.crash === null ? undefined : crashingGoroutine(ctx.crash);
	if (g === undefined) return { evidence: [], steps: [] };
	const frame = g.frames.find((f) => isProgramFrame(f) && !ASSERTION_FRAMEWORK.test(f.package));
	const name = goroutineName(g);
	const evidence =
		frame === undefined
			? `the failed assertion's caller is not among the ${g.frames.length} frames of ${name} in the text`
			: `failed assertion: ${formatFrame(frame)} in ${name}`;
	return { evidence: [evidence], steps: [] };
}

function blockedGoroutines(ctx: AnalysisContext): AnalysisResult {
	const crash = ctx.crash;
	if (crash === null) return { evidence: [], steps: [] };
	const blocked = crash.goroutines.filter((g) => g.state !== "running" && g.state !== "runnable");
	const evidence = blocked.slice(0, 5).map((g) => {
		const f = programFrame(g) ?? g.frames[0];
		return `${goroutineName(g)} [${g.stateText}] at ${f === undefined ? "?" : formatFrame(f)}`;
	});
	if (blocked.length > 5) evidence.push(`… and ${blocked.length - 5} more blocked goroutine(s)`);
	return { evidence, steps: [] };
}

function recursion(ctx: AnalysisContext): AnalysisResult {
	const g = ctx.crash === null ? undefined : crashingGoroutine(ctx.crash);
	if (g === undefined) return { evidence: [], steps: [] };
	const counts = new Map<string, number>();
	for (const f of g.frames) counts.set(f.function, (counts.get(f.function) ?? 0) + 1);
	const top = [...counts].sort((a, b) => b[1] - a[1])[0];
	if (top === undefined || top[1] < 3) return { evidence: [], steps: [] };
	const elided = g.elided.reduce((n, e) => n + (e.count ?? 0), 0);
	return {
		evidence: [
			`${top[0]} appears ${top[1]} times in the ${g.frames.length} printed frames${elided > 0 ? ` (${elided} more elided)` : ""}: recursion`,
		],
		steps: [],
	};
}

function cgoCall(ctx: AnalysisContext): AnalysisResult {
	const g = ctx.crash === null ? undefined : crashingGoroutine(ctx.crash);
	if (g === undefined) return { evidence: [], steps: [] };
	const i = g.frames.findIndex((f) => /\._Cfunc_/.test(f.function));
	if (i < 0) return { evidence: [], steps: [] };
	const cfunc = g.frames[i] as Frame;
	const caller = g.frames.slice(i + 1).find(isProgramFrame);
	const name = cfunc.function.replace(/^.*\._Cfunc_/, "");
	return {
		evidence: [
			`C function ${name} called${caller === undefined ? "" : ` from ${formatFrame(caller)}`} in ${goroutineName(g)}`,
		],
		steps: [],
	};
}

const AVX_RANGES = [
	{ min: "5.2", max: "5.3.14" },
	{ min: "5.4", max: "5.4.1" },
] as const;

function kernelRange(ctx: AnalysisContext): AnalysisResult {
	const k = ctx.environment.kernel;
	if (k === null) {
		return {
			evidence: [],
			steps: [
				'Tell gocrash the kernel of the machine that crashed (--kernel "$(uname -r)"), or run `gocrash host --self-test` there.',
			],
		};
	}
	const inRange = AVX_RANGES.map((r) => isInRange(k.value, r)).includes(true);
	if (!inRange)
		return {
			evidence: [`kernel ${k.value} is not in the affected ranges 5.2–5.3.14, 5.4.0–5.4.1`],
			steps: [],
		};
	const distro = /-/.test(k.value);
	return {
		evidence: [
			`kernel ${k.value} (${k.source}) is in the affected range by version${distro ? "; it is a distribution kernel, which may carry the backported fix (Ubuntu 5.4.0-8.11 and later do)" : ""}`,
		],
		steps: [
			"Check whether the kernel was built with GCC 9+ (cat /proc/version) and run `gocrash host --self-test` on it.",
		],
	};
}

const ANALYSES: Readonly<Record<string, (ctx: AnalysisContext) => AnalysisResult>> = {
	"map-access-sites": mapAccessSites,
	"race-accesses": raceAccesses,
	"program-frame": programFrameAnalysis,
	"assertion-site": assertionSite,
	"blocked-goroutines": blockedGoroutines,
	recursion,
	"cgo-call": cgoCall,
	"kernel-range": kernelRange,
	"test-waits": (ctx) => testWaits(ctx.crash),
};

/** Names of the analyses rules may ask for (besides `split-sp-victim`, which needs the binary). */
export const ANALYSIS_NAMES: readonly string[] = [...Object.keys(ANALYSES), "split-sp-victim"];

/** Runs one named text analysis; unknown names give nothing. */
export function runAnalysis(name: string, ctx: AnalysisContext): AnalysisResult {
	return ANALYSES[name]?.(ctx) ?? { evidence: [], steps: [] };
}

/**
 * The goroutines a crash shows stopped by asynchronous preemption, with the function each was
 * stopped in. An assembly frame after runtime.asyncPreempt is not that function: assembly is
 * never asynchronously preempted (runtime/preempt.go, isAsyncSafePoint), so the frame in between
 * was lost (a function line missing from a pasted stanza) and the goroutine names no victim.
 */
export function preemptedVictims(crash: Crash): { goroutine: Goroutine; frame: Frame }[] {
	const out: { goroutine: Goroutine; frame: Frame }[] = [];
	for (const g of crash.goroutines) {
		const i = g.frames.findIndex((f) => f.function === "runtime.asyncPreempt");
		const frame = i < 0 ? undefined : g.frames[i + 1];
		if (frame !== undefined && frame.file?.endsWith(".s") !== true)
			out.push({ goroutine: g, frame });
	}
	return out;
}
