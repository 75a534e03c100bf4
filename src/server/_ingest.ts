import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { collectNotes, diagnose, type EnvironmentOverrides } from "../diagnose/index.js";
import {
	crashAttributes,
	environmentAttributes,
	type Signature,
	signCrash,
	signRace,
} from "../fleet/index.js";
import { CONFIDENCES, type Rule } from "../knowledge/index.js";
import type { NewCrash, ReportKind } from "../store/index.js";
import { type Crash, parseCrashes, type RaceReport } from "../traceback/index.js";
import { ApiError } from "./_errors.js";

/** One report as a process sent it: crash text and where it came from. */
export interface Report {
	readonly text: string;
	readonly kind: ReportKind;
	readonly time: number;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly attributes: readonly (readonly [string, string])[];
	readonly idempotencyKey: string | null;
}

/** What turning reports into stored crashes needs. */
export interface IngestOptions {
	readonly rules: readonly Rule[];
	readonly maxCrashes: number;
	readonly now: () => number;
}

const SEARCH_LENGTH = 4000;

/** A new crash id: the time in hex first, so that ids sort by when they were received. */
export function newCrashId(now: number): string {
	return `${now.toString(16).padStart(12, "0")}${randomBytes(10).toString("hex")}`;
}

/** Parses, diagnoses and signs every crash and race report of a report's text. */
export function prepareReport(report: Report, options: IngestOptions): NewCrash[] {
	const result = parseCrashes(report.text);
	const found = result.crashes.length + result.races.length;
	if (found === 0)
		throw new ApiError(
			"no_crash",
			`no Go crash, goroutine dump or race report found in the text (${report.text.length} characters)`,
		);
	if (found > options.maxCrashes)
		throw new ApiError(
			"too_large",
			`the text holds ${found} crashes; at most ${options.maxCrashes} are taken in one request`,
		);
	const lines = report.text.split("\n");
	const notes = collectNotes(report.text);
	const given = new Map<string, string>();
	for (const [name, value] of report.attributes) if (!given.has(name)) given.set(name, value);
	const overrides: EnvironmentOverrides = {
		goVersion: given.get("goVersion"),
		goarch: given.get("goarch") ?? given.get("GOARCH"),
		goos: given.get("goos") ?? given.get("GOOS"),
		kernel: given.get("kernel"),
	};
	const received = options.now();
	const subjects: (Crash | RaceReport)[] = [...result.crashes, ...result.races].sort(
		(a, b) => a.startLine - b.startLine,
	);
	return subjects.map((subject, index) => {
		const isRace = "accesses" in subject;
		const diagnosis = diagnose(
			{ ...result, crashes: isRace ? [] : [subject], races: isRace ? [subject] : [] },
			{ rules: options.rules, notes, overrides },
		);
		const signature = isRace ? signRace(subject) : signCrash(subject);
		const extracted = isRace
			? environmentAttributes(diagnosis.environment)
			: crashAttributes(subject, diagnosis.environment);
		const attributes = dedupe([
			...report.attributes,
			...extracted.filter(([name]) => !given.has(name)),
		]);
		const top = diagnosis.findings[0];
		// The text is cut between crashes, each keeping the lines before it: a crash's own lines
		// alone may not parse as it did here (log lines interleaved with it are told apart by the
		// ones around), and `gocrash rebucket` signs the stored text again.
		const previous = subjects[index - 1];
		const from = Math.min(subject.startLine, previous === undefined ? 1 : previous.endLine + 1);
		const to = index === subjects.length - 1 ? lines.length : subject.endLine;
		const text = lines.slice(from - 1, to).join("\n");
		return {
			id: newCrashId(received),
			kind: report.kind,
			time: report.time,
			received,
			host: report.host,
			service: report.service,
			version: report.version,
			attributes,
			signature,
			message: isRace ? "WARNING: DATA RACE" : subject.message,
			diagnosis: top === undefined ? null : { id: top.id, confidence: top.confidence },
			diagnosisRank:
				top === undefined ? 0 : CONFIDENCES.length - CONFIDENCES.indexOf(top.confidence),
			findings: JSON.stringify(diagnosis.findings),
			raw: gzipSync(text),
			rawSize: text.length,
			search: searchText(isRace ? "WARNING: DATA RACE" : subject.message, signature),
			idempotencyKey: report.idempotencyKey === null ? null : `${report.idempotencyKey}#${index}`,
		};
	});
}

function dedupe(pairs: readonly (readonly [string, string])[]): (readonly [string, string])[] {
	const seen = new Set<string>();
	return pairs.filter(([n, v]) => {
		const key = `${n}\0${v}`;
		if (seen.has(key)) return false;
		seen.add(key);
		return true;
	});
}

function searchText(message: string | null, signature: Signature): string {
	return [message ?? "", signature.title, ...signature.frames]
		.join("\n")
		.toLowerCase()
		.slice(0, SEARCH_LENGTH);
}
