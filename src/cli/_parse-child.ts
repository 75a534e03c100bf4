// The second reader of `gocrash parse`'s grouped view on two processes (see _parse-parallel.ts):
// reads the second part of the input from a fresh state, writes what it finds to a records file,
// and tells the first reader after which lines nothing earlier mattered.
import { Buffer } from "node:buffer";
import { once } from "node:events";
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { Writable } from "node:stream";
import type { Similarity } from "../triage/index.js";
import { BufferedOutput } from "./_buffered.js";
import { READ_CHUNK } from "./_input.js";
import { styleFor } from "./_style.js";
import { type ViewEvent, ViewSession } from "./_view-session.js";

/** What the first reader asks of this one. */
export interface ChildJob {
	/** The input file, or null for standard input (descriptor 0, shared with the first reader). */
	path: string | null;
	/** The byte range to read: `start` is where a line starts. */
	start: number;
	end: number;
	similarity: Similarity;
	isTTY: boolean;
	env: Record<string, string | undefined>;
}

/** The descriptor the events are written to (see readRecords in _parse-parallel.ts). */
const RECORDS = 4;

/** What this reader tells the first one. */
export type ChildMessage =
	/** Line counts, from `start`, after which nothing earlier mattered (0 is the start itself). */
	{ type: "sync"; lines: number[] } | { type: "done" } | { type: "error"; message: string };

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
	let last: ChildMessage = { type: "done" };
	try {
		await read(job);
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

async function read(job: ChildJob): Promise<void> {
	const input = job.path === null ? 0 : openSync(job.path, "r");
	try {
		// Written as they come: a crash's body of many pieces is never queued in memory whole.
		const records = new Writable({
			write(chunk: Buffer, _encoding, done) {
				for (let at = 0; at < chunk.length; ) at += writeSync(RECORDS, chunk, at);
				done();
			},
		});
		const out = new BufferedOutput(records);
		// A record is the event as one line of JSON; a crash's or race's body follows it in pieces,
		// each its length in bytes on a line and then its UTF-8 bytes, and a 0 line after the last,
		// so that it is copied to the output without being decoded, and never held whole.
		const emit = (event: ViewEvent) => {
			if (event.type === "issue") return out.write(`${JSON.stringify(event)}\n`);
			const { body, ...head } = event;
			out.write(`${JSON.stringify(head)}\n`);
			for (const piece of body) {
				const bytes = typeof piece === "string" ? Buffer.byteLength(piece) : piece.length;
				if (bytes === 0) continue;
				out.write(`${bytes}\n`);
				if (typeof piece === "string") out.write(piece);
				else out.writeBytes(piece);
			}
			out.write("0\n");
		};
		let syncs = [0];
		let reported = 0;
		const session = new ViewSession(job.similarity, styleFor(job.isTTY, job.env), emit, {
			sync: (lines) => {
				if (reported + syncs.length < MAX_SYNCS) syncs.push(lines);
			},
			// A byte order mark is dropped at the start of the input only, which this is not.
			continued: true,
		});
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
		session.end();
		out.flush();
		out.stream.end();
		await once(out.stream, "finish");
	} finally {
		if (input !== 0) closeSync(input);
	}
}
