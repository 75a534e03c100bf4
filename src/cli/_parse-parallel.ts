import { Buffer } from "node:buffer";
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { closeSync, readSync } from "node:fs";
import {
	CrashScanner,
	IssueList,
	opensReport,
	stripLogPrefix,
	Utf8Pieces,
} from "../traceback/index.js";
import type { Similarity } from "../triage/index.js";
import type { BufferedOutput } from "./_buffered.js";
import { countNewlines, type InputSource, READ_CHUNK, type RegularFile } from "./_input.js";
import { InputError } from "./_io.js";
import type { ChildJob, ChildMessage, JsonRecord } from "./_parse-child.js";
import type { ParseJsonWriter } from "./_parse-json.js";
import { openScratchFile } from "./_scratch.js";
import type { Style } from "./_style.js";
import { type ViewEvent, type ViewOutput, ViewSession } from "./_view-session.js";

// A large file read by two processes, for the grouped view or for --json, with exactly the
// output of one.
//
// A child process reads the file from a report a little past its middle (see splitPoint), from
// a fresh state, and writes what it finds to a records file, while this process reads up to
// there and on. The scanner says after which lines nothing earlier matters (ScanHandlers.sync):
// at the first such line that both readers report, they would go on alike, so this process
// stops there and writes the child's records from that line on. If there is no such line, it
// reads to the end itself.

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
 * returns null, having read nothing, when there is no place to start the child (splitPoint) or
 * no temporary file for its records.
 */
export function viewInParallel(
	file: RegularFile,
	input: InputSource,
	similarity: Similarity,
	style: Style,
	look: ViewLook,
	output: ViewOutput,
	out: BufferedOutput,
): Promise<ParallelRead | null> {
	return readInParallel(file, out, {
		child: { type: "view", similarity, isTTY: look.isTTY, env: look.env },
		open: (sync, live, firstLine) =>
			new ViewSession(
				similarity,
				style,
				(event) => {
					if (live()) output.add(event, input.name, firstLine);
				},
				{ sync, continued: firstLine > 0 },
			),
		async take({ records }, from, linesAtHalf) {
			for (const event of readRecords<ViewEvent>(records)) {
				if (event.tag > from) output.add(event, input.name, linesAtHalf);
				if (out.stream.writableNeedDrain) await once(out.stream, "drain");
			}
		},
	});
}

/**
 * Writes the `parse --json` crashes, races and issues of a regular file to `writer`, reading it
 * with a second process, and ends the input there; returns null, having read nothing, as
 * {@link viewInParallel} does.
 */
export function jsonInParallel(
	file: RegularFile,
	input: InputSource,
	writer: ParseJsonWriter,
	out: BufferedOutput,
): Promise<ParallelRead | null> {
	// What this process found before the handover, then the child's records after it.
	const issues = new IssueList();
	let raceCount: number | null = null;
	return readInParallel(file, out, {
		child: { type: "json", source: input.name, linesFrom: file.start },
		open(sync, live, firstLine) {
			const scanner = new CrashScanner(
				{
					goroutine: (g, crash) => live() && writer.goroutine(g, crash),
					crash: (crash) => live() && writer.crash(crash),
					race: (race) => live() && writer.race(race),
					issue: (issue) => live() && issues.add(issue),
					raceCount: (count) => {
						if (live()) raceCount = count;
					},
					sync,
				},
				{ keep: false, firstLine },
			);
			const bytes = new Utf8Pieces((text) => scanner.write(text), { continued: firstLine > 0 });
			return {
				write: (chunk) => bytes.write(chunk),
				get lines() {
					return scanner.linesRead;
				},
				end() {
					bytes.end();
					const { lines } = scanner.end();
					writer.endInput(issues.list(lines), raceCount, lines);
				},
			};
		},
		async take({ records, notes }, from, _linesAtHalf, lines) {
			for (const record of readRecords<JsonRecord>(records)) {
				if (record.tag > from && record.type === "crash") writer.crashText(record.body);
				if (out.stream.writableNeedDrain) await once(out.stream, "drain");
			}
			for (const record of readRecords<JsonRecord>(notes)) {
				if (record.tag <= from) continue;
				if (record.type === "race") writer.raceText(Buffer.concat([...record.body]).toString());
				else if (record.type === "issue") issues.add(record.issue);
				else if (record.type === "race-count") raceCount = record.count;
			}
			writer.endInput(issues.list(lines), raceCount, lines);
		},
	});
}

/** What this process reads with; `lines` counts the lines read so far. */
interface Reader {
	write(chunk: Uint8Array): void;
	readonly lines: number;
	/** Ends the input, when this process has read it all. */
	end(): void;
}

/** What {@link readInParallel} does for one kind of output. */
interface Parallel {
	/** What the child writes. */
	child: ChildJob["output"];
	/**
	 * This process's reader, which tells `sync` each line count after which nothing earlier
	 * matters, and writes what it finds only while `live()`: false once the child takes over.
	 * `firstLine` lines of the input come before the bytes it is given (0: it reads from the
	 * input's start).
	 */
	open(sync: (lines: number) => void, live: () => boolean, firstLine: number): Reader;
	/**
	 * Writes the child's records whose tag is past `from`, the handover in the child's line
	 * count; `linesAtHalf` lines came before the child's start, `lines` in the whole input.
	 */
	take(
		files: { records: number; notes: number },
		from: number,
		linesAtHalf: number,
		lines: number,
	): Promise<void>;
}

async function readInParallel(
	file: RegularFile,
	out: BufferedOutput,
	parallel: Parallel,
): Promise<ParallelRead | null> {
	const half = splitPoint(file);
	if (half === null) return null;
	// The child writes to the records files as its descriptors 4 and 5; this process reads them
	// by offset.
	let records: number;
	let notes: number;
	try {
		records = openScratchFile("records");
	} catch {
		return null; // no room for one (a read-only temporary directory, say): one process reads
	}
	try {
		notes = openScratchFile("notes");
	} catch {
		closeSync(records);
		return null;
	}
	let child: ChildProcess | null = null;
	try {
		const childUrl = new URL("../../dist/cli/_parse-child.js", import.meta.url);
		child = fork(childUrl, [], {
			stdio: ["inherit", "ignore", "ignore", "ipc", records, notes],
		});
		const childSyncs = new Set<number>();
		let handover = -1;
		let childLines: number | null = null;
		let childFailure: string | null = null;
		let heard: () => void = () => {};
		// Settles at the child's first message, or when it ends without one.
		const firstHeard = new Promise<void>((resolve) => {
			heard = resolve;
		});
		child.on("message", (message: ChildMessage) => {
			heard();
			if (message.type === "sync") {
				if (handover < 0) for (const lines of message.lines) childSyncs.add(lines);
			} else if (message.type === "done") childLines = message.lines;
			else childFailure = message.message;
		});
		// Settles when the child has ended, however it ended (a child that cannot start too).
		const ended = new Promise<void>((resolve) => {
			const end = (failure: string) => {
				heard();
				if (childLines === null) childFailure ??= failure;
				resolve();
			};
			child?.once("exit", () => end("it stopped before the end"));
			child?.once("error", (error) => end(error.message));
		});
		const job: ChildJob = { path: file.path, start: half, end: file.size, output: parallel.child };
		child.send(job, () => {}); // a child that could not start is seen as one that never syncs

		// This process: up to the child's start, then on until both report the same sync point.
		let linesAtHalf = -1;
		let lastSync = -1;
		const meets = (lines: number) =>
			linesAtHalf >= 0 && childFailure === null && childSyncs.has(lines - linesAtHalf);
		const reader = parallel.open(
			(lines) => {
				lastSync = lines;
				if (handover < 0 && meets(lines)) handover = lines;
			},
			() => handover < 0,
			0,
		);
		const buffer = Buffer.allocUnsafe(READ_CHUNK);
		for (let at = file.start; at < file.size && handover < 0; ) {
			if (at === half) {
				linesAtHalf = reader.lines;
				// The child's first sync points, which a small input may reach before the child has
				// started; later ones are let in between every chunk from here on.
				await firstHeard;
				await new Promise(setImmediate);
				if (lastSync === linesAtHalf && meets(linesAtHalf)) handover = linesAtHalf;
			} else if (at > half) {
				await new Promise(setImmediate);
			}
			const limit = at < half ? half : file.size;
			// Standard input is read at its offset, which moves on as a plain read moves it.
			const position = file.path === null ? null : at;
			const length = readSync(file.fd, buffer, 0, Math.min(READ_CHUNK, limit - at), position);
			if (length === 0) break; // the file was cut short while being read
			reader.write(buffer.subarray(0, length));
			at += length;
			if (out.stream.writableNeedDrain) await once(out.stream, "drain");
		}
		if (handover < 0) {
			reader.end();
			return { handover: null };
		}
		await ended;
		if (childFailure === null && childLines !== null) {
			await parallel.take({ records, notes }, handover - linesAtHalf, linesAtHalf, childLines);
			return { handover };
		}
		// The child failed (its records filled the disk, say): this process reads on from the
		// handover, where a fresh reader reads as it would have.
		const rest = parallel.open(
			() => {},
			() => true,
			handover,
		);
		const from = countNewlines(file.fd, half, file.size, handover - linesAtHalf).next;
		for (let at = from; at < file.size; ) {
			const length = readSync(file.fd, buffer, 0, Math.min(READ_CHUNK, file.size - at), at);
			if (length === 0) break;
			rest.write(buffer.subarray(0, length));
			at += length;
			if (out.stream.writableNeedDrain) await once(out.stream, "drain");
		}
		rest.end();
		return { handover: null };
	} finally {
		if (child !== null && child.exitCode === null) child.kill();
		closeSync(records);
		closeSync(notes);
		// Standard input is left at its end, as reading it through leaves it (`parse - -`).
		if (file.path === null) skipToEnd(file.fd);
	}
}

/** Reads a descriptor to its end, moving its offset there. */
function skipToEnd(fd: number): void {
	const buffer = Buffer.allocUnsafe(READ_CHUNK);
	while (readSync(fd, buffer, 0, READ_CHUNK, null) > 0);
}

/** How far past the middle a report is looked for to start the child at. */
const SPLIT_SEARCH = 16 * 1024 * 1024;
/** Most lines read in that search: text such as `got SIGHUP` may be on every line. */
const SPLIT_CANDIDATES = 10_000;
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
	let candidates = 0;
	// Each window is searched from its first whole line to its last.
	for (let from = middle, first = -1; from < limit; first = 0) {
		const length = readSync(file.fd, window, 0, Math.min(window.length, limit - from), from);
		const end = window.lastIndexOf(0x0a, length - 1);
		if (length === 0 || end < 0) return null;
		// The first window may begin inside a line: its first whole line is after a newline.
		if (first < 0) first = window.indexOf(0x0a) + 1;
		const next = REPORT_MARKS.map(() => -1);
		for (let at = first; at < end; ) {
			let hit = end;
			REPORT_MARKS.forEach((mark, i) => {
				// A mark not in the rest of the window is at its end, so it is not looked for again.
				if ((next[i] ?? 0) < at) {
					const found = window.subarray(0, end).indexOf(mark, at);
					next[i] = found < 0 ? end : found;
				}
				hit = Math.min(hit, next[i] ?? end);
			});
			if (hit === end) break;
			const start = window.lastIndexOf(0x0a, hit) + 1;
			const stop = window.indexOf(0x0a, hit);
			if (start >= first) {
				if (++candidates > SPLIT_CANDIDATES) return null;
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
 * The records in a records file: each a line of JSON, then, for a crash or a race, its body's
 * pieces (see writeBody in _parse-child.ts). A body is read as it is iterated, and each piece is
 * valid until the next is asked for: one buffer serves the whole file. Asking for the next record
 * skips what was not read of the last one's body.
 */
function* readRecords<T extends { type: string; tag: number }>(
	fd: number,
): Generator<T & { body: Iterable<Uint8Array> }> {
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
	// The next line without its newline, moving past it; null at the end of the file.
	const line = (): string | null => {
		let newline = data.subarray(0, filled).indexOf(0x0a, at);
		while (newline < 0) {
			if (!have(filled - at + 1)) {
				if (filled > at) throw new InputError("the second process's records end inside one");
				return null;
			}
			newline = data.subarray(0, filled).indexOf(0x0a, at);
		}
		const text = data.toString("utf8", at, newline);
		at = newline + 1;
		return text;
	};
	function* pieces(): Generator<Uint8Array> {
		for (;;) {
			const text = line();
			if (text === "0") return;
			const bytes = text === null ? -1 : Number(text);
			if (!Number.isSafeInteger(bytes) || bytes <= 0 || !have(bytes))
				throw new InputError("the second process's records end inside one");
			at += bytes;
			yield data.subarray(at - bytes, at);
		}
	}
	for (;;) {
		const text = line();
		if (text === null) return;
		const head: T = JSON.parse(text);
		if (head.type !== "crash" && head.type !== "race") {
			yield { ...head, body: [] };
			continue;
		}
		const body = pieces();
		yield { ...head, body };
		for (const _ of body);
	}
}
