import type { Crash, Frame, Goroutine } from "../traceback/index.js";
import { isStdFrame } from "../traceback/index.js";

/** Frames a signature keeps: enough to tell call sites apart, few enough that callers far up do not split buckets. */
export const MAX_FRAMES = 5;

// The runtime's own panic and throw machinery sits on top of every crashed stack and says nothing
// the reason does not; its names also change between releases (throw, fatal, fatalthrow).
const MACHINERY =
	/^(?:runtime\.(?:gopanic|panic[A-Za-z0-9]*|goPanic[A-Za-z0-9]*|sigpanic|throw|fatal|fatalthrow|fatalpanic|startpanic_m|dopanic_m|crash|raise|raisebadsignal|dieFromSignal|sighandler|sigtrampgo|sigtramp|sigreturn__sigaction|abort|badsignal|systemstack|mcall|goexit\d*)|panic|(?:internal\/)?sync\.(?:fatal|throw))$/;

/**
 * Whether a frame is the Go distribution's: diagnose's isStdFrame, and also a runtime function
 * whose body lives in another package of GOROOT by linkname, which isStdFrame takes for the
 * program's (Go 1.24's runtime.mapassign_faststr in src/internal/runtime/maps/).
 */
export function isDistributionFrame(frame: Frame): boolean {
	if (isStdFrame(frame)) return true;
	const first = frame.package.split("/")[0] ?? "";
	return (
		frame.package !== "main" &&
		!first.includes(".") &&
		frame.file !== null &&
		/\/src\/(?:internal\/)?runtime\//.test(frame.file)
	);
}

/**
 * A function name as it stays the same across builds and releases: Go 1.22 named the closures
 * of package-level variables `init.funcN` where earlier releases printed `glob..funcN`.
 */
export function functionName(frame: Frame): string {
	return frame.function.replace(/\.glob\.\.func(?=\d)/, ".init.func");
}

/** The frames above the first elision: below it Go ≤1.20 prints nothing and later releases the bottom 50. */
function printedTop(
	goroutine: Goroutine | undefined,
	fallback: readonly Frame[],
): readonly Frame[] {
	if (goroutine === undefined) return fallback;
	const cut = goroutine.elided[0]?.index;
	return cut === undefined ? goroutine.frames : goroutine.frames.slice(0, cut);
}

/** Function names top first, a run of one function (recursion) folded into one, at most `max`. */
function names(frames: readonly Frame[], max: number): string[] {
	const out: string[] = [];
	for (const frame of frames) {
		const name = functionName(frame);
		if (out.at(-1) === name) continue;
		out.push(name);
		if (out.length === max) break;
	}
	return out;
}

/** The frames that matter of one stack: its program frames, or its top runtime frames when it has none. */
export interface PickedFrames {
	readonly frames: readonly string[];
	readonly own: boolean;
}

/** The program's own functions of a stack, top first; without any, the top frames past the panic machinery. */
export function pickFrames(frames: readonly Frame[], max = MAX_FRAMES): PickedFrames {
	const own = frames.filter((f) => !isDistributionFrame(f));
	if (own.length > 0) return { frames: names(own, max), own: true };
	const start = frames.findIndex((f) => !MACHINERY.test(f.function));
	return { frames: names(start < 0 ? frames : frames.slice(start), max), own: false };
}

/** The frames that matter of a crash's goroutine (or the `runtime stack:` when none was printed). */
export function goroutineFrames(crash: Crash, goroutine: Goroutine | undefined): PickedFrames {
	return pickFrames(printedTop(goroutine, crash.runtimeStack));
}
