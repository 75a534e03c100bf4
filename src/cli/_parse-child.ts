// The second reader of `gocrash parse` on two processes (see _parse-parallel.ts): reads the
// second part of the input from a fresh state, writes what it finds to a records file (for the
// grouped view or for --json), and tells the first reader after which lines nothing earlier
// mattered.
import { Buffer } from "node:buffer";
import { once } from "node:events";
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { Writable } from "node:stream";
import type { ParseIssue } from "../traceback/index.js";
import { CrashScanner, Utf8Pieces } from "../traceback/index.js";
import type { Similarity } from "../triage/index.js";
import { BufferedOutput } from "./_buffered.js";
import { countNewlines, READ_CHUNK } from "./_input.js";
import { CrashJson, raceJson } from "./_parse-json.js";
import { styleFor } from "./_style.js";
import { type ViewEvent, ViewSession } from "./_view-session.js";

/** What the first reader asks of this one. */
export interface ChildJob {
	/** The input file, or null for standard input (descriptor 0, shared with the first reader). */
	path: string | null;
	/** The byte range to read: `start` is where a line starts. */
	start: number;
	end: number;
	/** What to write: the grouped view's events, or the crashes' JSON text (see readJson). */
	output:
		| {
				type: "view";
				similarity: Similarity;
				isTTY: boolean;
				env: Record<string, string | undefined>;
		  }
		| {
				type: "json";
				/** The input's name, for the crashes' `source`. */
				source: string;
				/**
				 * Where the input starts in the file: the lines from there to `start` are counted,
				 * since the JSON has the input's line numbers.
				 */
				linesFrom: number;
		  };
}

/** A record of --json output: its head line (a body of pieces follows a crash's or a race's). */
export type JsonRecord =
	| { type: "crash"; tag: number }
	| { type: "race"; tag: number }
	| { type: "issue"; tag: number; issue: ParseIssue }
	| { type: "race-count"; tag: number; count: number };

/** The descriptor the events are written to (see readRecords in _parse-parallel.ts). */
const RECORDS = 4;
/**
 * For --json, the descriptor of a second records file: issues, race reports and race counts,
 * which may come while a crash's text is being written to the first.
 */
const NOTES = 5;

/** What this reader tells the first one. */
export type ChildMessage =
	/** Line counts, from `start`, after which nothing earlier mattered (0 is the start itself). */
	| { type: "sync"; lines: number[] }
	/** `lines`: the input's lines read, counted from its start. */
	| { type: "done"; lines: number }
	| { type: "error"; message: string };

/**
 * Most sync points reported. The first reader looks for a common one near the start; after a
 * log line without digits comes one every line, and there could be millions.
 */
const MAX_SYNCS = 4096;

let finished = false;

// The first reader gone (its output closed early, say), nothing would read the records.
process.once("disconnect", () => {
	if (!finished) process.exit(0);
});

process.once("message", async (job: ChildJob) => {
	let last: ChildMessage;
	try {
		last = { type: "done", lines: await read(job) };
	} catch (error) {
		last = { type: "error", message: error instanceof Error ? error.message : String(error) };
	}
	finished = true;
	// Disconnecting drops messages not yet written: the last one is waited for.
	process.send?.(last, undefined, undefined, () => process.disconnect());
});

function send(message: ChildMessage): void {
	process.send?.(message);
}

/** What reads the bytes: told each line count after which nothing earlier matters. */
interface Session {
	write(chunk: Uint8Array): void;
	/** Finishes the input; returns the input's lines read, counted from its start. */
	end(): number;
}

async function read(job: ChildJob): Promise<number> {
	const input = job.path === null ? 0 : openSync(job.path, "r");
	try {
		const out = new BufferedOutput(recordsFile(RECORDS));
		let syncs = [0];
		let reported = 0;
		const sync = (lines: number) => {
			if (reported + syncs.length < MAX_SYNCS) syncs.push(lines);
		};
		let notes: BufferedOutput | null = null;
		let session: Session;
		if (job.output.type === "view") session = viewSession(job.output, out, sync);
		else {
			notes = new BufferedOutput(recordsFile(NOTES));
			session = jsonSession(job.output, input, job.start, out, notes, sync);
		}
		const buffer = Buffer.allocUnsafe(READ_CHUNK);
		for (let at = job.start; at < job.end; ) {
			const length = readSync(input, buffer, 0, Math.min(READ_CHUNK, job.end - at), at);
			if (length === 0) break; // the file was cut short while being read
			session.write(buffer.subarray(0, length));
			at += length;
			if (syncs.length > 0) {
				send({ type: "sync", lines: syncs });
				reported += syncs.length;
				syncs = [];
				// Lets the message out now, while the first reader may be looking for it.
				await new Promise(setImmediate);
			}
			if (out.stream.writableNeedDrain) await once(out.stream, "drain");
		}
		const lines = session.end();
		for (const output of notes === null ? [out] : [out, notes]) {
			output.flush();
			output.stream.end();
			await once(output.stream, "finish");
		}
		return lines;
	} finally {
		if (input !== 0) closeSync(input);
	}
}

// Written as they come: a crash's body of many pieces is never queued in memory whole.
function recordsFile(fd: number): Writable {
	return new Writable({
		write(chunk: Buffer, _encoding, done) {
			for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
			done();
		},
	});
}

// A record is the event as one line of JSON; a crash's or race's body follows it in pieces, each
// its length in bytes on a line and then its UTF-8 bytes, and a 0 line after the last, so that it
// is copied to the output without being decoded, and never held whole.
function writeBody(out: BufferedOutput, body: Iterable<string | Uint8Array>): void {
	for (const piece of body) {
		const bytes = typeof piece === "string" ? Buffer.byteLength(piece) : piece.length;
		if (bytes === 0) continue;
		out.write(`${bytes}\n`);
		if (typeof piece === "string") out.write(piece);
		else out.writeBytes(piece);
	}
	out.write("0\n");
}

function viewSession(
	view: Extract<ChildJob["output"], { type: "view" }>,
	out: BufferedOutput,
	sync: (lines: number) => void,
): Session {
	const emit = (event: ViewEvent) => {
		if (event.type === "issue") return out.write(`${JSON.stringify(event)}\n`);
		const { body, ...head } = event;
		out.write(`${JSON.stringify(head)}\n`);
		writeBody(out, body);
	};
	// A byte order mark is dropped at the start of the input only, which this is not.
	const session = new ViewSession(view.similarity, styleFor(view.isTTY, view.env), emit, {
		sync,
		continued: true,
	});
	return {
		write: (chunk) => session.write(chunk),
		end: () => {
			session.end();
			return session.lines;
		},
	};
}

// Crashes are written as CrashJson writes them into the document, each as the body of a record
// whose tag is the number of lines read when its first byte was; race reports, issues and race
// counts likewise, to `notes`. Tags, like sync points, count lines from `start`; the JSON's line
// numbers count from the input's start.
function jsonSession(
	json: Extract<ChildJob["output"], { type: "json" }>,
	input: number,
	start: number,
	out: BufferedOutput,
	notes: BufferedOutput,
	sync: (lines: number) => void,
): Session {
	const { source } = json;
	const firstLine = countNewlines(input, json.linesFrom, start).count;
	const tag = () => scanner.linesRead - firstLine;
	const record = (to: BufferedOutput, head: JsonRecord) => to.write(`${JSON.stringify(head)}\n`);
	// A crash's text goes through its own buffer, each chunk of which is a piece of the body.
	const pieces = new BufferedOutput(
		new Writable({
			write(chunk: Buffer, _encoding, done) {
				out.write(`${chunk.length}\n`);
				out.writeBytes(chunk);
				done();
			},
		}),
	);
	const crashJson = new CrashJson(pieces, () => record(out, { type: "crash", tag: tag() }));
	crashJson.source = source;
	const scanner = new CrashScanner(
		{
			goroutine: (g, crash) => crashJson.goroutine(g, crash),
			crash: (crash) => {
				crashJson.crash(crash);
				pieces.flush();
				out.write("0\n");
			},
			race: (race) => {
				record(notes, { type: "race", tag: tag() });
				writeBody(notes, [raceJson(source, race)]);
			},
			issue: (issue) => record(notes, { type: "issue", tag: tag(), issue }),
			raceCount: (count) => record(notes, { type: "race-count", tag: tag(), count }),
			sync: (lines) => sync(lines - firstLine),
		},
		{ keep: false, firstLine },
	);
	const bytes = new Utf8Pieces((text) => scanner.write(text), { continued: true });
	return {
		write: (chunk) => bytes.write(chunk),
		end: () => {
			bytes.end();
			return scanner.end().lines;
		},
	};
}
