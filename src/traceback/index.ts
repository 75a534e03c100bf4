/**
 * Reading Go crash text: panics, fatal errors, signal crashes, goroutine dumps and race reports.
 * @module
 */
import { Buffer, isAscii } from "node:buffer";
import type { ParseResult } from "./_model.js";
import { CrashScanner, type ScanHandlers, type ScanOptions } from "./_scanner.js";

export { MAX_LINE_LENGTH } from "./_lines.js";
export type {
	Ancestor,
	Crash,
	CrashKind,
	CreatedBy,
	Elision,
	Frame,
	Goroutine,
	PanicValue,
	ParseIssue,
	ParseResult,
	RaceAccess,
	RaceGoroutine,
	RaceReport,
	Signal,
	StackDump,
	StackWord,
	ThreadDump,
} from "./_model.js";
export { stripLogPrefix } from "./_prefix.js";
export { CrashScanner, type ScanHandlers, type ScanOptions } from "./_scanner.js";

/** Parses a whole crash text held in memory. */
export function parseCrashes(text: string, options: ScanOptions = {}): ParseResult {
	const scanner = new CrashScanner({}, options);
	scanner.write(text);
	return scanner.end();
}

/** Bytes decoded into one string at a time. */
const DECODE_PIECE = 32 * 1024;

/** Parses crash text arriving in chunks (strings, or bytes decoded as UTF-8) without holding it all. */
export async function scanCrashes(
	chunks: AsyncIterable<string | Uint8Array>,
	handlers: ScanHandlers = {},
	options: ScanOptions = {},
): Promise<ParseResult> {
	const scanner = new CrashScanner(handlers, options);
	const decoder = new TextDecoder();
	for await (const chunk of chunks) {
		if (typeof chunk === "string") {
			scanner.write(chunk);
			continue;
		}
		// Decoded in pieces small enough for V8's young generation: a string of a megabyte goes
		// to the large-object space, freed only by a full collection, and memory grows meanwhile.
		for (let at = 0; at < chunk.length; at += DECODE_PIECE) {
			const piece = chunk.subarray(at, at + DECODE_PIECE);
			if (isAscii(piece)) {
				// Most crash text is ASCII, which reads as Latin-1 at a fraction of UTF-8's cost. The
				// flush hands over what a multi-byte character cut at the last piece's end decodes to.
				scanner.write(decoder.decode());
				scanner.write(
					Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).toString("latin1"),
				);
			} else scanner.write(decoder.decode(piece, { stream: true }));
		}
	}
	scanner.write(decoder.decode());
	return scanner.end();
}
