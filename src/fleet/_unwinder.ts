import { hasSplitSPSignature, splitSPVictims } from "../diagnose/index.js";
import type { Crash, Frame, Goroutine } from "../traceback/index.js";
import { isSentSignal } from "./_reason.js";

// The runtime's unwinder: runtime.(*unwinder).next since Go 1.21, runtime.gentraceback before.
const UNWINDER =
	/^runtime\.(?:\(\*unwinder\)\.(?:next|finishInternal|resolveInternal)|gentraceback)$/;
const UNWIND_FATAL = /^(?:traceback did not unwind completely|unknown caller pc|traceback stuck)/;

/** How the unwinder failed, in words, or null when it did not. */
export function unwinderFailure(crash: Crash): string | null {
	if (crash.fatal !== null && UNWIND_FATAL.test(crash.fatal)) return `fatal error: ${crash.fatal}`;
	const signal = crash.signal;
	if (signal === null || isSentSignal(signal)) return null;
	const frames = [...crash.runtimeStack, ...(crash.goroutines[0]?.frames ?? [])];
	if (!frames.some((f) => UNWINDER.test(f.function))) return null;
	return `${signal.name} in the unwinder (${frames.find((f) => UNWINDER.test(f.function))?.function})`;
}

/**
 * The goroutine the unwinder was walking when it failed, and the function it was preempted in:
 * among diagnose's split-SP victims, leaving out inlined frames (an epilogue belongs to a real
 * function, never to one inlined into another), the one with the scan bit (`runnable (scan)`,
 * `preempted (scan)`: the garbage collector was scanning its stack) first.
 */
export function unwinderVictim(crash: Crash): { goroutine: Goroutine; frame: Frame } | undefined {
	if (!hasSplitSPSignature(crash)) return undefined;
	const victims = splitSPVictims(crash);
	const real = victims.filter((v) => !v.frame.inlined);
	const candidates = real.length > 0 ? real : victims;
	return candidates.find((v) => v.goroutine.scan) ?? candidates[0];
}
