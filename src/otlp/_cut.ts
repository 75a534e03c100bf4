import { createHash } from "node:crypto";
import { ReportCutter } from "../traceback/index.js";
import type { StreamRecord } from "./_streams.js";

/** What a stream carries from one request to the next (the store keeps it). */
export interface CutState {
	/** The text the report cutter holds: an open report and the lines before it. */
	readonly held: string;
	/** Time of the record in which the open report began; null: none is open. */
	readonly opened: number | null;
	/** Time of the newest record. */
	readonly last: number;
	/** Digests of the batches written most recently, newest last. */
	readonly batches: readonly string[];
}

/** A report cut out of a stream, with the time of the record it began in (0: none had a time). */
export interface CutCrash {
	readonly text: string;
	readonly truncated: boolean;
	readonly time: number;
}

/** Batches remembered per stream: an export retried after more others than this is read again. */
const BATCHES = 32;

/**
 * Writes a batch of a stream's records after what the stream held, and cuts out every report
 * they complete. A batch already written (an export sent again) changes nothing: `repeated`.
 */
export function cutRecords(
	state: CutState | null,
	records: readonly StreamRecord[],
	maxChars: number,
): { crashes: CutCrash[]; next: CutState; repeated: boolean } {
	const hash = createHash("sha256");
	for (const r of records) hash.update(`${r.time}\0${r.text}\0`);
	const digest = hash.digest("base64url").slice(0, 22);
	if (state?.batches.includes(digest) === true) return { crashes: [], next: state, repeated: true };
	const crashes: CutCrash[] = [];
	let opened = state?.opened ?? null;
	let time = 0;
	const cutter = new ReportCutter(
		(report) => {
			crashes.push({ text: report.text, truncated: report.truncated, time: opened ?? time });
			opened = null;
		},
		{ maxChars },
	);
	cutter.write(state?.held ?? "");
	let last = state?.last ?? 0;
	for (const r of records) {
		time = r.time;
		if (r.time > last) last = r.time;
		cutter.write(r.text.endsWith("\n") ? r.text : `${r.text}\n`);
		if (!cutter.open) opened = null;
		else opened ??= r.time;
	}
	return {
		crashes,
		next: {
			held: cutter.held,
			opened,
			last,
			batches: [...(state?.batches ?? []), digest].slice(-BATCHES),
		},
		repeated: false,
	};
}

/** Ends a quiet stream: the report it holds open, cut as it is (truncated if it stops mid-way). */
export function flushHeld(state: CutState, maxChars: number): CutCrash[] {
	const crashes: CutCrash[] = [];
	const cutter = new ReportCutter(
		(report) =>
			crashes.push({
				text: report.text,
				truncated: report.truncated,
				time: state.opened ?? state.last,
			}),
		{ maxChars },
	);
	cutter.write(state.held);
	cutter.flush();
	return crashes;
}
