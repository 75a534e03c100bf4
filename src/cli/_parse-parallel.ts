import { Buffer } from "node:buffer";
import { fork } from "node:child_process";
import { once } from "node:events";
import { closeSync, readSync } from "node:fs";
import { opensReport, stripLogPrefix } from "../traceback/index.js";
import type { Similarity } from "../triage/index.js";
import type { BufferedOutput } from "./_buffered.js";
import type { InputSource, RegularFile } from "./_input.js";
import { InputError } from "./_io.js";
import type { ChildJob, ChildMessage } from "./_parse-child.js";
import { openScratchFile } from "./_scratch.js";
import type { Style } from "./_style.js";
import { type ViewEvent, type ViewOutput, ViewSession } from "./_view-session.js";

// The grouped view of a large file read by two processes, with exactly the output of one.
//
// A child process reads the file from a report a little past its middle (see splitPoint), from
// a fresh state, and writes what it finds to a records file, while this process reads up to
// there and on. The scanner says after which lines nothing earlier matters (ScanHandlers.sync):
// at the first such line that both readers report, they would go on alike, so this process
// stops there and writes the child's records from that line on. If there is no such line, it
// reads to the end itself.

/** Bytes read at a time. */
const READ_CHUNK = 1024 * 1024;

/** How a parallel read went. */
export interface ParallelRead {
	/** Lines this process read before the child's records took over; null if it read them all. */
	handover: number | null;
}

/** How the grouped view looks, as the child needs to know it. */
export interface ViewLook {
	isTTY: boolean;
	env: Record<string, string | undefined>;
}

/**
 * Writes the grouped view of a regular file to `output`, reading it with a second process;
 * returns null, having read nothing, when there is no place to start the child (splitPoint).
 */
export async function viewInParallel(
	file: RegularFile,
	input: InputSource,
	similarity: Similarity,
	style: Style,
	look: ViewLook,
	output: ViewOutput,
	out: BufferedOutput,
): Promise<ParallelRead | null> {
	const half = splitPoint(file);
	if (half === null) return null;
	// The child writes to the records file as its descriptor 4; this process reads it by offset.
	const records = openScratchFile("records");
	const childUrl = new URL("../../dist/cli/_parse-child.js", import.meta.url);
	const child = fork(childUrl, [], { stdio: ["inherit", "ignore", "ignore", "ipc", records] });
	try {
		const childSyncs = new Set<number>();
		let childDone = false;
		let childFailure: string | null = null;
		let heard: () => void = () => {};
		// Settles at the child's first message, or when it ends without one.
		const firstHeard = new Promise<void>((resolve) => {
			heard = resolve;
		});
		child.on("message", (message: ChildMessage) => {
			heard();
			if (message.type === "sync") for (const lines of message.lines) childSyncs.add(lines);
			else if (message.type === "done") childDone = true;
			else childFailure = message.message;
		});
		const exited = once(child, "exit").then(() => {
			heard();
			if (!childDone) childFailure ??= "it stopped before the end";
		});
		child.on("error", (error) => {
			heard();
			childFailure ??= error.message;
		});
		const job: ChildJob = {
			path: file.path,
			start: half,
			end: file.size,
			similarity,
			isTTY: look.isTTY,
			env: look.env,
		};
		child.send(job, () => {}); // a child that could not start is seen as one that never syncs

		// This process: up to the child's start, then on until both report the same sync point.
		let linesAtHalf = -1;
		let handover = -1;
		let lastSync = -1;
		const session = new ViewSession(
			similarity,
			style,
			(event) => {
				if (handover < 0) output.add(event, input.name, 0);
			},
			(lines) => {
				lastSync = lines;
				if (handover < 0 && linesAtHalf >= 0 && childSyncs.has(lines - linesAtHalf)) {
					handover = lines;
				}
			},
		);
		const buffer = Buffer.allocUnsafe(READ_CHUNK);
		for (let at = file.start; at < file.size && handover < 0; ) {
			if (at === half) {
				linesAtHalf = session.lines;
				// The child's first sync points, which a small input may reach before the child has
				// started; later ones are let in between every chunk from here on.
				await firstHeard;
				await new Promise(setImmediate);
				if (lastSync === linesAtHalf && childSyncs.has(0)) handover = linesAtHalf;
			} else if (at > half) {
				await new Promise(setImmediate);
			}
			const limit = at < half ? half : file.size;
			const length = readSync(file.fd, buffer, 0, Math.min(READ_CHUNK, limit - at), at);
			if (length === 0) break; // the file was cut short while being read
			session.write(buffer.subarray(0, length));
			at += length;
			if (out.stream.writableNeedDrain) await once(out.stream, "drain");
		}
		if (handover < 0) {
			session.end();
			return { handover: null };
		}
		await exited;
		if (childFailure !== null || !childDone) {
			throw new InputError(
				`${input.name}: the second process reading it failed (${childFailure}); GOCRASH_PARALLEL=0 reads with one`,
			);
		}
		const from = handover - linesAtHalf;
		for (const event of readRecords(records)) {
			if (event.tag > from) output.add(event, input.name, linesAtHalf);
			if (out.stream.writableNeedDrain) await once(out.stream, "drain");
		}
		return { handover };
	} finally {
		if (child.exitCode === null) child.kill();
		closeSync(records);
	}
}

/** How far past the middle a report is looked for to start the child at. */
const SPLIT_SEARCH = 16 * 1024 * 1024;
/** Text that every line {@link opensReport} accepts holds: lines without any are not read. */
const REPORT_MARKS = ["panic: ", "fatal error: ", "SIG", "WARNING: DATA RACE"].map((mark) =>
	Buffer.from(mark),
);

// The child starts at a line that opens a crash or race report, a little past the middle (it
// also writes records, which this process then copies): there both readers will likely agree
// soon. A file with none there, such as one long goroutine dump, is read by one process.
function splitPoint(file: RegularFile): number | null {
	const middle = file.start + Math.floor((file.size - file.start) * 0.55);
	const limit = Math.min(file.size, middle + SPLIT_SEARCH);
	const window = Buffer.allocUnsafe(READ_CHUNK);
	// Each window is searched from its first whole line to its last.
	for (let from = middle, first = -1; from < limit; first = 0) {
		const length = readSync(file.fd, window, 0, Math.min(window.length, limit - from), from);
		const end = window.lastIndexOf(0x0a, length - 1);
		if (length === 0 || end < 0) return null;
		// The first window begins inside a line, unless the middle is a line start.
		if (first < 0) first = window.indexOf(0x0a) + 1;
		const next = REPORT_MARKS.map(() => -1);
		for (let at = first; at < end; ) {
			let hit = end;
			REPORT_MARKS.forEach((mark, i) => {
				if ((next[i] ?? 0) < at) next[i] = window.subarray(0, end).indexOf(mark, at);
				const found = next[i] ?? -1;
				if (found >= 0 && found < hit) hit = found;
			});
			if (hit === end) break;
			const start = window.lastIndexOf(0x0a, hit) + 1;
			const stop = window.indexOf(0x0a, hit);
			if (start >= first) {
				const line = window.toString("latin1", start, stop);
				if (opensReport(stripLogPrefix(line)?.text ?? line)) return from + start;
			}
			at = stop + 1;
		}
		from += end + 1;
	}
	return null;
}

/**
 * The events in a records file: each a line of JSON, then its body's `bytes` bytes, if any. A
 * body is valid until the next event is asked for: one buffer serves the whole file.
 */
function* readRecords(fd: number): Generator<ViewEvent> {
	let data = Buffer.allocUnsafe(2 * READ_CHUNK);
	let filled = 0;
	let at = 0;
	let position = 0;
	// Makes `count` bytes from `at` on available; false at the end of the file.
	const have = (count: number): boolean => {
		while (filled - at < count) {
			data.copyWithin(0, at, filled);
			filled -= at;
			at = 0;
			if (data.length - filled < READ_CHUNK) {
				const bigger = Buffer.allocUnsafe(Math.max(2 * data.length, count + READ_CHUNK));
				data.copy(bigger, 0, 0, filled);
				data = bigger;
			}
			const length = readSync(fd, data, filled, data.length - filled, position);
			if (length === 0) return false;
			filled += length;
			position += length;
		}
		return true;
	};
	for (;;) {
		let newline = data.subarray(0, filled).indexOf(0x0a, at);
		while (newline < 0) {
			if (!have(filled - at + 1)) return;
			newline = data.subarray(0, filled).indexOf(0x0a, at);
		}
		const { bytes = 0, ...event }: ViewEvent & { bytes?: number } = JSON.parse(
			data.toString("utf8", at, newline),
		);
		at = newline + 1;
		if (event.type === "issue") {
			yield event;
			continue;
		}
		if (!have(bytes)) return;
		yield { ...event, body: data.subarray(at, at + bytes) };
		at += bytes;
	}
}
