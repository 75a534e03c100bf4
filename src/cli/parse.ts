import { once } from "node:events";
import { type Crash, type Goroutine, type ParseIssue, scanCrashes } from "../traceback/index.js";
import { GoroutineBuckets, SIMILARITIES, type Similarity } from "../triage/index.js";
import { BufferedOutput } from "./_buffered.js";
import { openInputs } from "./_input.js";
import type { Command, Io } from "./_io.js";
import { parseCommandArgs, UsageError } from "./_io.js";
import { ParseJsonWriter } from "./_parse-json.js";
import { formatCrash, formatRace, formatSummary } from "./_parse-view.js";
import { styleFor } from "./_style.js";

const usage = `usage: gocrash parse [FILE|-]... [--json] [--similarity exact|pointers|values]

Reads Go crash output (panics, fatal errors, signal crashes, goroutine dumps, race reports) from
files, gzip files or standard input, and prints each crash with its goroutines grouped by stack.

  --json                 print one JSON document instead of the grouped view
  --similarity LEVEL     how alike goroutines must be to share a group (default: pointers):
                         exact    arguments equal as printed
                         pointers arguments equal, but any two Go pointers, and any two
                                  values Go marked '?' (possibly inaccurate), count as equal
                         values   argument values ignored
`;

/** `gocrash parse`: crash text in, structured crashes out. */
export const parseCommand: Command = {
	name: "parse",
	summary: "read Go crash output and show crashes with goroutines grouped by stack",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			json: { type: "boolean", default: false },
			similarity: { type: "string", default: "pointers" },
		});
		const similarity = values.similarity as Similarity;
		if (!SIMILARITIES.includes(similarity)) {
			throw new UsageError(
				`--similarity must be one of ${SIMILARITIES.join(", ")}, not '${values.similarity}'`,
			);
		}
		return values.json ? runJson(positionals, io) : runView(positionals, similarity, io);
	},
};

async function runJson(paths: readonly string[], io: Io): Promise<number> {
	const out = new BufferedOutput(io.stdout);
	const writer = new ParseJsonWriter(out);
	for (const input of openInputs(paths, io)) {
		writer.startInput(input.name);
		const result = await scanCrashes(
			drained(input.chunks(), out),
			{
				goroutine: (g, crash) => writer.goroutine(g, crash),
				crash: (crash) => writer.crash(crash),
				race: (race) => writer.race(race),
			},
			{ keep: false },
		);
		writer.endInput(result.issues, result.raceCount, result.lines);
	}
	writer.end();
	out.flush();
	return 0;
}

async function runView(paths: readonly string[], similarity: Similarity, io: Io): Promise<number> {
	const style = styleFor(io.stdout.isTTY, io.env);
	const out = new BufferedOutput(io.stdout);
	const issues: (ParseIssue & { source: string })[] = [];
	let crashes = 0;
	let races = 0;
	for (const input of openInputs(paths, io)) {
		let current: Crash | null = null;
		let buckets = new GoroutineBuckets(similarity);
		const addGoroutine = (g: Goroutine, crash: Crash) => {
			if (current !== crash) {
				current = crash;
				buckets = new GoroutineBuckets(similarity);
			}
			buckets.add(g, crash.goroutineCount === 1 && isCrashing(crash));
		};
		const result = await scanCrashes(
			drained(input.chunks(), out),
			{
				goroutine: addGoroutine,
				crash: (crash) => {
					const list = current === crash ? buckets.buckets() : [];
					out.write(formatCrash(crash, list, ++crashes, input.name, style));
					current = null;
				},
				race: (race) => {
					out.write(formatRace(race, ++races, input.name, style));
				},
			},
			{ keep: false },
		);
		for (const issue of result.issues) issues.push({ source: input.name, ...issue });
	}
	out.write(formatSummary(crashes, races, issues, style));
	out.flush();
	return 0;
}

// The first goroutine printed is the one that crashed, except in a dump asked for with SIGQUIT.
function isCrashing(crash: Crash): boolean {
	if (crash.kind === "dump") return false;
	return !(crash.kind === "signal" && crash.signal?.name === "SIGQUIT");
}

// Waits for the output to drain between input chunks, so a slow reader keeps memory flat.
async function* drained(
	chunks: AsyncIterable<Uint8Array>,
	out: BufferedOutput,
): AsyncIterable<Uint8Array> {
	for await (const chunk of chunks) {
		yield chunk;
		if (out.stream.writableNeedDrain) await once(out.stream, "drain");
	}
}
