import { createHash } from "node:crypto";
import { hasSplitSPSignature, isStdFrame, splitSPVictims } from "../diagnose/index.js";
import type { Crash, Frame, RaceReport } from "../traceback/index.js";

/** Bumped whenever the way signatures are computed changes, so stored crashes can be re-signed. */
export const SIGNATURE_VERSION = 1;

/** A bucket key and what it is made of: the reason class and the frames that matter. */
export interface Signature {
	readonly version: number;
	/** 16 hex characters of a hash of the version, reason and frames. */
	readonly id: string;
	readonly title: string;
	readonly reason: string;
	readonly frames: readonly string[];
	/** Sentences saying why crashes with this signature are grouped. */
	readonly why: readonly string[];
}

/** Frames of the program's own code that a signature keeps. */
const MAX_FRAMES = 3;
const MAX_REASON = 200;

/**
 * The reason with what changes from crash to crash replaced: hex values by ADDR, other numbers
 * by N, and quoted text by "…", so that `index out of range [5] with length 3` and
 * `index out of range [7] with length 2` share one class.
 */
export function normalizeReason(text: string): string {
	return text
		.slice(0, MAX_REASON * 2)
		.replace(/"(?:[^"\\]|\\.){0,200}"/g, '"…"')
		.replace(/\b0x[0-9a-fA-F]+\b/g, "ADDR")
		.replace(/\b\d+(?:\.\d+)?/g, "N")
		.replace(/\s+/g, " ")
		.trim()
		.slice(0, MAX_REASON);
}

/** Where a fault address points: nil, a small offset from nil, or elsewhere. */
function addressClass(addr: string | null): string | null {
	if (addr === null) return null;
	const n = /^0x[0-9a-f]{1,16}$/i.test(addr) ? Number.parseInt(addr, 16) : Number.NaN;
	if (Number.isNaN(n)) return null;
	if (n === 0) return "addr=nil";
	return n < 0x1000 ? "addr=nil+offset" : "addr=other";
}

function reasonOf(crash: Crash): string {
	const last = crash.panics.at(-1);
	let reason: string;
	if (last !== undefined) reason = `panic: ${normalizeReason(last.value)}`;
	else if (crash.fatal !== null) reason = `fatal error: ${normalizeReason(crash.fatal)}`;
	else if (crash.signal !== null) reason = crash.signal.name;
	else if (crash.message !== null) reason = normalizeReason(crash.message);
	else reason = "goroutine dump";
	const signal = crash.signal;
	if (signal !== null && !reason.startsWith(signal.name)) {
		const where = addressClass(signal.addr);
		reason += ` [${signal.name}${where === null ? "" : ` ${where}`}]`;
	} else if (signal !== null) {
		const where = addressClass(signal.addr);
		if (where !== null) reason += ` ${where}`;
	}
	return reason;
}

/** Function names of the frames that matter: the program's own, top first, recursion folded. */
function programFunctions(frames: readonly Frame[]): string[] {
	const own = frames.filter((f) => !isStdFrame(f)).map((f) => f.function);
	const picked = own.length > 0 ? own : frames.map((f) => f.function);
	const out: string[] = [];
	for (const fn of picked) {
		if (out.at(-1) === fn) continue;
		out.push(fn);
		if (out.length === MAX_FRAMES) break;
	}
	return out;
}

function idOf(reason: string, frames: readonly string[]): string {
	return createHash("sha256")
		.update(`${SIGNATURE_VERSION}\n${reason}\n${frames.join("\n")}`)
		.digest("hex")
		.slice(0, 16);
}

/** Whether the crash is the runtime's unwinder failing: a fault in it, or an unwind that did not finish. */
function isUnwinderFailure(crash: Crash): boolean {
	if (
		crash.fatal !== null &&
		/traceback did not unwind completely|unknown caller pc|traceback stuck/.test(crash.fatal)
	)
		return true;
	const frames = [...crash.runtimeStack, ...(crash.goroutines[0]?.frames ?? [])];
	return crash.signal !== null && frames.some((f) => f.function === "runtime.(*unwinder).next");
}

/**
 * The function the goroutine being unwound was preempted in. When the text does not say which
 * goroutine that was, the function most preempted goroutines stopped in, leaving out inlined
 * frames: a split epilogue belongs to a real function, never to one inlined into another.
 */
function likeliestVictim(crash: Crash): string | undefined {
	const victims = splitSPVictims(crash);
	if (victims.length <= 1) return victims[0]?.frame.function;
	const counts = new Map<string, number>();
	for (const v of victims)
		if (!v.frame.inlined) counts.set(v.frame.function, (counts.get(v.frame.function) ?? 0) + 1);
	let best: string | undefined;
	for (const [fn, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = fn;
	return best ?? victims[0]?.frame.function;
}

/** The bucket key of a crash: its reason class and the program frames of the goroutine that crashed. */
export function signCrash(crash: Crash): Signature {
	if (hasSplitSPSignature(crash) && isUnwinderFailure(crash)) {
		const victim = likeliestVictim(crash);
		const victims = victim === undefined ? [] : [victim];
		if (victims.length > 0) {
			const reason = "unwinder failure while unwinding a preempted goroutine";
			const shown =
				crash.fatal !== null ? `fatal error: ${normalizeReason(crash.fatal)}` : reasonOf(crash);
			return {
				version: SIGNATURE_VERSION,
				id: idOf(reason, victims),
				title: `unwinder failure: goroutine preempted in ${victims.join(", ")}`,
				reason,
				frames: victims,
				why: [
					`the runtime's unwinder failed (${shown}) while unwinding another goroutine`,
					`that goroutine was asynchronously preempted in ${victims.join(", ")}: the crash is grouped by the function it was stopped in, not by the goroutine that crashed`,
					"SIGSEGV in runtime.(*unwinder).next and 'traceback did not unwind completely' share this class: both are the arm64 split-SP shape",
				],
			};
		}
	}
	const reason = reasonOf(crash);
	const crashed = crash.goroutines[0];
	const frames = programFunctions(crashed?.frames ?? crash.runtimeStack);
	const own = crashed?.frames.some((f) => !isStdFrame(f)) ?? false;
	const why = [`same reason class: ${reason}`];
	if (frames.length > 0)
		why.push(
			own
				? `same program frames of the goroutine that crashed, top first: ${frames.join(" ← ")}`
				: `the goroutine that crashed has no frame of the program's own; same top frames: ${frames.join(" ← ")}`,
		);
	else why.push("no goroutine was printed: grouped by the reason alone");
	why.push("goroutine ids, addresses, argument values, line numbers and times are ignored");
	return {
		version: SIGNATURE_VERSION,
		id: idOf(reason, frames),
		title: frames.length > 0 ? `${reason} in ${frames[0]}` : reason,
		reason,
		frames,
		why,
	};
}

/** The bucket key of a race report: the program frames of its two accesses, in either order. */
export function signRace(race: RaceReport): Signature {
	const sides = race.accesses
		.slice(0, 2)
		.map((a) => programFunctions(a.frames).slice(0, 2).join(" ← "))
		.sort();
	const reason = "DATA RACE";
	return {
		version: SIGNATURE_VERSION,
		id: idOf(reason, sides),
		title: `DATA RACE between ${sides.join(" and ") || "unknown code"}`,
		reason,
		frames: sides,
		why: [
			"a data race reported by the race detector",
			`the same two accesses, in either order: ${sides.join(" / ")}`,
			"addresses and goroutine ids are ignored",
		],
	};
}
