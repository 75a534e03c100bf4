/**
 * Reading Go crash text: panics, fatal errors, signal crashes, goroutine dumps and race reports.
 * @module
 */

import { Utf8Pieces } from "./_decode.js";
import type { ParseResult } from "./_model.js";
import { CrashScanner, type ScanHandlers, type ScanOptions } from "./_scanner.js";

export { opensReport } from "./_classify.js";
export { type CutReport, type CutterOptions, ReportCutter } from "./_cutter.js";
export { Utf8Pieces } from "./_decode.js";
export { newFrame } from "./_frame.js";
export { IssueList } from "./_issues.js";
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
export { goroutineName, raceAccessTitle, signalTitle } from "./_model.js";
export { stripLogPrefix } from "./_prefix.js";
export { CrashScanner, type ScanHandlers, type ScanOptions } from "./_scanner.js";
export { isProgramFrame, isStdFrame, panicOrigin } from "./_std.js";

/** Parses a whole crash text held in memory. */
export function parseCrashes(text: string, options: ScanOptions = {}): ParseResult {
	const scanner = new CrashScanner({}, options);
	scanner.write(text);
	return scanner.end();
}

/** Parses crash text arriving in chunks (strings, or bytes decoded as UTF-8) without holding it all. */
export async function scanCrashes(
	chunks: AsyncIterable<string | Uint8Array>,
	handlers: ScanHandlers = {},
	options: ScanOptions = {},
): Promise<ParseResult> {
	const scanner = new CrashScanner(handlers, options);
	const bytes = new Utf8Pieces((text) => scanner.write(text));
	for await (const chunk of chunks) {
		if (typeof chunk === "string") scanner.write(chunk);
		else bytes.write(chunk);
	}
	bytes.end();
	return scanner.end();
}
