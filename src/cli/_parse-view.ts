import {
	type Crash,
	isProgramFrame,
	isStdFrame,
	type PanicValue,
	type ParseIssue,
	panicOrigin,
	type RaceReport,
	raceAccessTitle,
	signalTitle,
} from "../traceback/index.js";
import type { Bucket, BucketFrame } from "../triage/index.js";
import type { Style } from "./_style.js";

/** Most goroutine ids listed per bucket in the human view. */
const SHOWN_IDS = 8;

/** Most issues listed in the closing summary. */
export const SHOWN_ISSUES = 20;

/** Where a crash or race report is, for its heading. */
export interface Placed {
	/** What it is and its number: `crash 3 · panic`, `data race 1`. */
	title: string;
	source: string;
	startLine: number;
	endLine: number;
	truncated: boolean;
}

/** Formats the heading line of a crash or race report; the body that follows starts a new line. */
export function formatHeading(placed: Placed, s: Style): string {
	const { title, source, startLine, endLine, truncated } = placed;
	return s.bold(
		`━━ ${title} · ${source}:${startLine}-${endLine}${truncated ? " · truncated" : ""}`,
	);
}

/** Formats one crash with its goroutine buckets for a terminal, to follow its heading. */
export function formatCrash(crash: Crash, buckets: readonly Bucket[], s: Style): string {
	return [...formatCrashPieces(crash, buckets, s)].join("");
}

/**
 * The text of {@link formatCrash} in pieces, each made when it is asked for: the crash's own
 * lines, then one piece per bucket, so that a crash of many buckets is never one string.
 */
export function* formatCrashPieces(
	crash: Crash,
	buckets: readonly Bucket[],
	s: Style,
): Generator<string> {
	const out: string[] = [];
	out.push(s.red(s.bold(crash.message ?? "goroutine dump (no reason printed)")));
	for (const [i, panic] of crash.panics.entries()) {
		const mark = panic.repanicked
			? " [recovered, repanicked]"
			: panic.recovered
				? " [recovered]"
				: "";
		// The message is the first panic's first line: only the value's further lines follow it.
		if (i === 0 && crash.message?.startsWith("panic:")) {
			const more = panic.value.indexOf("\n");
			if (more >= 0)
				out.push(s.red(`    ${panic.value.slice(more + 1).replaceAll("\n", "\n    ")}${mark}`));
			continue;
		}
		out.push(
			s.red(`${i === 0 ? "" : "  then "}panic: ${panic.value.replaceAll("\n", "\n    ")}${mark}`),
		);
	}
	if (crash.fatal !== null && !/^fatal(?: error)?: /.test(crash.message ?? ""))
		out.push(s.red(`fatal error: ${crash.fatal}`));
	const signal = crash.signal;
	if (signal !== null) {
		const fields = [
			signal.code === null ? "" : `code=${signal.code}`,
			signal.addr === null ? "" : `addr=${signal.addr}`,
			signal.pc === null ? "" : `pc=${signal.pc}`,
			signal.m === null ? "" : `m=${signal.m}`,
		].filter((f) => f !== "");
		const cgo = signal.duringCgo ? s.yellow(" (during cgo execution)") : "";
		out.push(`${s.yellow(`signal ${signalTitle(signal)}`)} ${fields.join(" ")}${cgo}`);
		if (signal.instructionBytes !== null)
			out.push(s.dim(`instruction bytes: ${signal.instructionBytes}`));
	}
	if (crash.panicDuringPanic) out.push(s.red("panic during panic"));
	for (const line of shownRuntimeLines(crash.runtimeLines)) out.push(s.yellow(line));
	for (const dump of crash.stackDumps) {
		const bad = dump.words.filter((w) => w.marker === "!").map((w) => `${w.address}=${w.value}`);
		out.push(
			s.dim(
				`${dump.header} (${dump.words.length} words${bad.length > 0 ? `, bad: ${bad.join(" ")}` : ""})`,
			),
		);
	}
	if (crash.exitStatus !== null) out.push(s.dim(`exit status ${crash.exitStatus}`));
	if (crash.exitSignal !== null) out.push(s.dim(`killed by signal: ${crash.exitSignal}`));
	if (crash.runtimeStack.length > 0) {
		out.push("", s.bold("runtime stack:"));
		out.push(...formatFrames(crash.runtimeStack, s));
	}
	for (const thread of crash.threads) {
		const { name, description, pc, m } = thread.signal;
		out.push(s.dim(`another thread: ${name}: ${description} m=${m ?? "?"} pc=${pc ?? "?"}`));
	}
	const registers = Object.entries(crash.registers);
	if (registers.length > 0) {
		out.push("", s.bold("registers:"));
		out.push(`  ${registers.map(([name, value]) => `${name}=${value}`).join(" ")}`);
	}
	const shapes = buckets.length === 1 ? "1 stack" : `${buckets.length} stacks`;
	out.push(
		"",
		s.dim(`${crash.goroutineCount} goroutine${crash.goroutineCount === 1 ? "" : "s"} in ${shapes}`),
	);
	// As body(out) would join them, with each bucket after a blank line.
	yield `\n${out.join("\n")}`;
	for (const bucket of buckets) yield `\n\n${formatBucket(bucket, crash.panics, s).join("\n")}`;
	yield "\n\n";
}

function formatBucket(bucket: Bucket, panics: readonly PanicValue[], s: Style): string[] {
	const g = bucket.goroutine;
	const count = `${bucket.count} goroutine${bucket.count === 1 ? "" : "s"}`;
	const extras = [s.cyan(g.state)];
	if (g.scan) extras.push("scan");
	const wait = bucket.waitMinutes;
	if (wait !== null)
		extras.push(wait.min === wait.max ? `${wait.min} min` : `${wait.min}-${wait.max} min`);
	if (g.lockedToThread) extras.push("locked to thread");
	if (bucket.crashed) extras.push(s.red(s.bold("crashed")));
	const ids = bucket.ids
		.slice(0, SHOWN_IDS)
		.map((id) => id ?? "?")
		.join(" ");
	const more = bucket.count > SHOWN_IDS ? ` +${bucket.count - SHOWN_IDS}` : "";
	const lines = [`${s.yellow(s.bold(count))} · ${extras.join(" · ")}  ${s.dim(`[${ids}${more}]`)}`];
	if (g.stackUnavailable) lines.push(s.dim("  stack unavailable (running on another thread)"));
	const createdBy =
		g.createdBy === null ? null : { frame: g.createdBy.frame, parents: bucket.parents };
	const own = bucket.crashed ? ownCode(g.frames, panics) : -1;
	lines.push(...formatFrames(g.frames, s, { elided: g.elided, own, createdBy }));
	for (const ancestor of g.ancestors) {
		lines.push(s.dim(`  originating from goroutine ${ancestor.id}:`));
		lines.push(...formatFrames(ancestor.frames, s));
	}
	return lines;
}

/** Options of {@link formatFrames}. */
interface FrameListing {
	elided?: readonly { index: number; count: number | null }[];
	/** Index of the frame to mark as where the crash happened in the program's own code, or -1. */
	own?: number;
	/** A `created by` frame, listed last and aligned with the others. */
	createdBy?: { frame: BucketFrame; parents: readonly number[] } | null;
}

function formatFrames(
	frames: readonly BucketFrame[],
	s: Style,
	listing: FrameListing = {},
): string[] {
	const calls: string[] = [];
	let width = 0;
	for (const frame of frames) {
		const call = frame.args === null ? frame.function : `${frame.function}(${frame.args})`;
		if (call.length > width) width = call.length;
		calls.push(call);
	}
	const created = listing.createdBy;
	if (created != null) {
		const parents =
			created.parents.length === 0 ? "" : ` in goroutine ${created.parents.join(", ")}`;
		const call = `created by ${created.frame.function}${parents}`;
		if (call.length > width) width = call.length;
		calls.push(call);
	}
	if (width > 72) width = 72;
	const own = listing.own ?? -1;
	const elided = listing.elided ?? [];
	const lines: string[] = [];
	const elision = (e: { count: number | null }) =>
		s.dim(`    …${e.count ?? "additional"} frames elided…`);
	// Go ≤1.20 prints `...additional frames elided...` after the last frame, before `created by`.
	const at = (e: { index: number }) => Math.min(e.index, frames.length);
	for (let i = 0; i < calls.length; i++) {
		// The last call, past the frames, is the `created by` line's.
		const frame = (i < frames.length ? frames[i] : created?.frame) as BucketFrame;
		const call = calls[i] as string;
		for (const e of elided) if (at(e) === i) lines.push(elision(e));
		const place = frame.file === null ? "" : `${shortenFile(frame)}:${frame.line}`;
		const padded = call.length < width ? call + spaces(width - call.length) : call;
		const marked = i === own ? `${s.red("▶ ")}${s.bold(s.green(padded))}` : `  ${s.green(padded)}`;
		lines.push(`  ${marked}  ${s.dim(place)}`);
	}
	if (created == null) for (const e of elided) if (at(e) === frames.length) lines.push(elision(e));
	return lines;
}

/** Most runtime lines shown before an object dump's words are summed up. */
const SHOWN_RUNTIME_LINES = 24;

// The runtime's own lines, but of a long dump of a heap object's words or a span's objects
// (gcDumpObject, reportZombies) only the words it marked: the bad pointer, a zombie.
function shownRuntimeLines(lines: readonly string[]): string[] {
	if (lines.length <= SHOWN_RUNTIME_LINES) return [...lines];
	const shown: string[] = [];
	let left = 0;
	for (const line of lines) {
		const dump = line.startsWith("*(") || line.startsWith("0x") || line === "...";
		if (!dump || line.endsWith(" <==") || line.endsWith(" zombie")) shown.push(line);
		else left++;
	}
	if (left > 0) shown.push(`… ${left} more lines of the runtime's object dump (--json has them)`);
	return shown;
}

const SPACES = " ".repeat(72);

/** `n` spaces, n at most 72: a slice of one string, which padEnd makes anew each time. */
function spaces(n: number): string {
	return SPACES.slice(0, n);
}

/** Formats one race report for a terminal, to follow its heading. */
export function formatRace(race: RaceReport, s: Style): string {
	const out: string[] = [];
	for (const access of race.accesses) {
		out.push(s.red(`  ${raceAccessTitle(access)}`));
		if (access.failedToRestore) out.push(s.dim("    [failed to restore the stack]"));
		out.push(...formatFrames(access.frames, s));
	}
	for (const goroutine of race.goroutines) {
		out.push(s.yellow(`  goroutine ${goroutine.id} (${goroutine.status}) created at`));
		if (goroutine.failedToRestore) out.push(s.dim("    [failed to restore the stack]"));
		out.push(...formatFrames(goroutine.frames, s));
	}
	if (race.location !== null) out.push(`  ${race.location}`);
	return body(out);
}

/** The lines below a heading, each starting a new line, then a blank line. */
function body(lines: readonly string[]): string {
	return lines.length === 0 ? "\n\n" : `\n${lines.join("\n")}\n\n`;
}

/** Formats the closing summary: how many crashes, races and issues, and the issues themselves. */
export function formatSummary(
	crashes: number,
	races: number,
	issues: readonly (ParseIssue & { source: string })[],
	issueCount: number,
	s: Style,
): string {
	const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
	const lines = [
		s.bold(
			`${plural(crashes, "crash").replace("crashs", "crashes")}, ${plural(races, "data race")}, ${plural(issueCount, "issue")}`,
		),
	];
	if (crashes === 0 && races === 0) lines.push("no Go crash, goroutine dump or race report found");
	for (const issue of issues.slice(0, SHOWN_ISSUES))
		lines.push(s.dim(`  ${issue.source}:${issue.line}: ${issue.code}: ${issue.message}`));
	if (issueCount > SHOWN_ISSUES)
		lines.push(s.dim(`  … ${issueCount - SHOWN_ISSUES} more issues (see --json)`));
	return `${lines.join("\n")}\n`;
}

// The frame the crashed goroutine's trouble came from in the program's own code: where its panic
// value came from, below the handlers that ran while it panicked, or else its first program frame.
function ownCode(frames: readonly BucketFrame[], panics: readonly PanicValue[]): number {
	const origin = panicOrigin(frames, panics);
	return origin >= 0 ? origin : frames.findIndex(isProgramFrame);
}

// Shows a standard-library file under $GOROOT, whatever the machine's Go installation path was.
function shortenFile(frame: BucketFrame): string {
	const file = frame.file ?? "";
	if (!isStdFrame(frame)) return file;
	// The last `/src/`, found forwards: lastIndexOf costs more on every frame shown.
	let src = file.indexOf("/src/");
	for (let next = src; next >= 0; next = file.indexOf("/src/", next + 1)) src = next;
	return src < 0 ? file : `$GOROOT${file.slice(src)}`;
}
