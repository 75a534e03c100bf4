import { type Crash, type Goroutine, goroutineName, type RaceReport } from "../traceback/index.js";
import { functionName, goroutineFrames, pickFrames } from "./_frames.js";
import { hash64 } from "./_hash.js";
import { isSentSignal, reasonClass } from "./_reason.js";
import { unwinderFailure, unwinderVictim } from "./_unwinder.js";

/** Bumped whenever the way signatures are computed changes, so stored crashes can be re-signed. */
export const SIGNATURE_VERSION = 2;

/** A bucket key and what it is made of: the reason class and the frames that matter. */
export interface Signature {
	/** The SIGNATURE_VERSION it was computed with. */
	readonly version: number;
	/** 16 hex digits of a hash of the version, reason and frames. */
	readonly id: string;
	/** One line for a list: the reason and the top frame. */
	readonly title: string;
	/** The reason class: the reason with what varies from crash to crash replaced. */
	readonly reason: string;
	/** The function names that matter, top first: program frames, or the split-SP victim. */
	readonly frames: readonly string[];
	/** Sentences saying why crashes with this signature are grouped. */
	readonly why: readonly string[];
}

/** The reason class of every crash of the unwinder, whichever way it failed. */
const UNWINDER_FAILURE = "unwinder failure";
const IGNORED =
	"goroutine ids, addresses, argument values, line numbers, times and hosts are ignored";

function signature(
	reason: string,
	frames: readonly string[],
	title: string,
	why: string[],
): Signature {
	return {
		version: SIGNATURE_VERSION,
		id: hash64(`${SIGNATURE_VERSION}\n${reason}\n${frames.join("\n")}`),
		title,
		reason,
		frames,
		why,
	};
}

const hasOwnFrame = (g: Goroutine): boolean => pickFrames(g.frames).own;

/**
 * The goroutine whose frames key the crash: the first printed (the one that crashed), except for
 * a signal sent by kill(2), which lands on any thread: then the main goroutine (the one running
 * main.main; not found by its id, which a rewritten text may change), or the first with a frame of
 * the program's own.
 */
function subjectGoroutine(crash: Crash): { goroutine: Goroutine | undefined; sent: boolean } {
	const first = crash.goroutines[0];
	if (crash.signal === null || !isSentSignal(crash.signal))
		return { goroutine: first, sent: false };
	const main = crash.goroutines.find((g) => g.frames.some((f) => f.function === "main.main"));
	return { goroutine: main ?? crash.goroutines.find(hasOwnFrame) ?? first, sent: true };
}

function inCgo(crash: Crash, goroutine: Goroutine | undefined): boolean {
	if (crash.signal?.duringCgo === true) return true;
	// Go ≤1.20 does not say `signal arrived during cgo execution` when the fault is in C code.
	const top = goroutine?.frames[0]?.function;
	return top === "runtime.cgocall" || top === "runtime.asmcgocall";
}

function signUnwinderFailure(crash: Crash, how: string): Signature {
	const victim = unwinderVictim(crash);
	if (victim === undefined)
		return signature(
			UNWINDER_FAILURE,
			[],
			`${UNWINDER_FAILURE}: no preempted goroutine in the text`,
			[
				`same reason class: ${UNWINDER_FAILURE} (here ${how}); a SIGSEGV in runtime.(*unwinder).next and 'traceback did not unwind completely' are one class`,
				"no goroutine stopped in runtime.asyncPreempt was printed (the runtime printed only some goroutines, or failed before it got to them): grouped by the reason alone",
				"the frames of the goroutine that crashed are ignored: they are the runtime's (a GC worker scanning a stack, a traceback), whichever goroutine's stack was broken",
				IGNORED,
			],
		);
	const fn = functionName(victim.frame);
	return signature(UNWINDER_FAILURE, [fn], `unwinder failure: goroutine preempted in ${fn}`, [
		`same reason class: ${UNWINDER_FAILURE} (here ${how}); a SIGSEGV in runtime.(*unwinder).next and 'traceback did not unwind completely' are one class`,
		`victim goroutine preempted in ${fn} (split-SP shape): ${goroutineName(victim.goroutine)} [${victim.goroutine.stateText}] stopped in runtime.asyncPreempt while the runtime unwound its stack`,
		"grouped by the function the victim was preempted in, not by the goroutine that crashed",
		IGNORED,
	]);
}

/** The bucket key of a crash: its reason class and the program frames of the goroutine that crashed, or the split-SP victim's function. */
export function signCrash(crash: Crash): Signature {
	const how = unwinderFailure(crash);
	if (how !== null) return signUnwinderFailure(crash, how);
	const { goroutine, sent } = subjectGoroutine(crash);
	const { reason, notes } = reasonClass(crash, inCgo(crash, goroutine));
	const picked = goroutineFrames(crash, goroutine);
	const why = [`same reason class: ${reason}`, ...notes];
	const chain = picked.frames.join(" → ");
	if (sent)
		why.push(
			"the signal was sent with kill (sigcode 0) and landed on any thread: keyed by the main goroutine",
		);
	if (picked.frames.length === 0) why.push("no frame was printed: grouped by the reason alone");
	else if (picked.own) why.push(`same program frames: ${chain}`);
	else
		why.push(
			`no frame of the program's own in the goroutine that crashed; same top frames: ${chain}`,
		);
	why.push(IGNORED);
	const top = picked.frames[0];
	return signature(reason, picked.frames, top === undefined ? reason : `${reason} in ${top}`, why);
}

/** The bucket key of a race report: the top program frames of its two accesses, in either order. */
export function signRace(race: RaceReport): Signature {
	const sides = race.accesses
		.slice(0, 2)
		.map((a) => pickFrames(a.frames, 1).frames[0] ?? "(stack not restored)")
		.sort();
	const reason = "DATA RACE";
	const shown = sides.length > 0 ? sides.join(" and ") : "unknown code";
	return signature(reason, sides, `DATA RACE between ${shown}`, [
		"same reason class: DATA RACE (a race detector report)",
		`same program frames of the two accesses, in either order: ${sides.join(" / ")}`,
		"which access came first, addresses and goroutine ids are ignored",
	]);
}
