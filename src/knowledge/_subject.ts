import {
	type Crash,
	type Frame,
	type Goroutine,
	type RaceReport,
	signalTitle,
} from "../traceback/index.js";

/** One environment fact and where it came from (a flag, a path in the text, the binary). */
export interface Fact {
	readonly value: string;
	readonly source: string;
}

/** What is known about where the crash happened; null when unknown. */
export interface Environment {
	readonly goVersion: Fact | null;
	readonly goarch: Fact | null;
	readonly goos: Fact | null;
	readonly kernel: Fact | null;
	/** GOARCH values the text rules out where it does not say which one it is. */
	readonly goarchExcluded?: { readonly values: readonly string[]; readonly source: string } | null;
}

/** What a rule is matched against: one crash (or none), the race reports, the environment and established facts. */
export interface Subject {
	readonly crash: Crash | null;
	readonly races: readonly RaceReport[];
	readonly environment: Environment;
	/** Unindented lines of the input outside the crash model (messages printed before or instead of a crash). */
	readonly notes: readonly string[];
	/** Facts established by analyses, by name, each with the evidence that established it. */
	readonly facts: ReadonlyMap<string, string>;
}

/** The goroutine that crashed: Go prints it first. */
export function crashingGoroutine(crash: Crash): Goroutine | undefined {
	return crash.goroutines[0];
}

/** The lines that state why the program died, as Go printed them. */
export function reasonLines(crash: Crash): string[] {
	const lines: string[] = [];
	if (crash.message !== null) lines.push(crash.message);
	if (crash.fatal !== null) lines.push(`fatal error: ${crash.fatal}`);
	for (const p of crash.panics) lines.push(`panic: ${p.value}`);
	if (crash.signal !== null) {
		const s = crash.signal;
		lines.push(
			`[signal ${signalTitle(s)} code=${s.code ?? "?"} addr=${s.addr ?? "?"} pc=${s.pc ?? "?"}]`,
		);
		if (s.duringCgo) lines.push("signal arrived during cgo execution");
		if (s.instructionBytes !== null) lines.push(`instruction bytes: ${s.instructionBytes}`);
	}
	for (const line of crash.runtimeLines) lines.push(line);
	for (const dump of crash.stackDumps) lines.push(dump.header);
	return [...new Set(lines)];
}

/** Frames of the given scope, each with the goroutine it belongs to (null for `runtime stack:`). */
export function framesIn(
	crash: Crash,
	scope: "crashing" | "top" | "any" | "runtime-stack",
): { frame: Frame; goroutine: Goroutine | null }[] {
	const out: { frame: Frame; goroutine: Goroutine | null }[] = [];
	const first = crashingGoroutine(crash);
	if (scope === "runtime-stack" || scope === "crashing" || scope === "any") {
		for (const frame of crash.runtimeStack) out.push({ frame, goroutine: null });
	}
	if (scope === "top") {
		const frame = first?.frames[0] ?? crash.runtimeStack[0];
		if (frame !== undefined) out.push({ frame, goroutine: first?.frames[0] ? first : null });
		return out;
	}
	if (scope === "crashing" && first !== undefined) {
		for (const frame of first.frames) out.push({ frame, goroutine: first });
	}
	if (scope === "any") {
		for (const g of crash.goroutines)
			for (const frame of g.frames) out.push({ frame, goroutine: g });
	}
	return out;
}

/** Whether the crash happened in C code or went through cgo. */
export function isCgo(crash: Crash): boolean {
	if (crash.signal?.duringCgo === true) return true;
	return framesIn(crash, "crashing").some(({ frame }) =>
		/^(?:runtime\.cgocall|runtime\.asmcgocall|runtime\.cgocallbackg|_cgo_|.*\._Cfunc_)/.test(
			frame.function,
		),
	);
}
