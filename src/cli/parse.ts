import { once } from "node:events";
import { availableParallelism } from "node:os";
import { scanCrashes } from "../traceback/index.js";
import { SIMILARITIES, type Similarity } from "../triage/index.js";
import { BufferedOutput } from "./_buffered.js";
import { type InputSource, openInputs, type RegularFile } from "./_input.js";
import type { Command, Io } from "./_io.js";
import { parseCommandArgs, UsageError } from "./_io.js";
import { ParseJsonWriter } from "./_parse-json.js";
import { jsonInParallel, viewInParallel } from "./_parse-parallel.js";
import { styleFor } from "./_style.js";
import { ViewOutput, ViewSession } from "./_view-session.js";

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
		const file = parallelFile(input, io);
		if (file !== null) {
			try {
				const read = await jsonInParallel(file, input, writer, out);
				if (read !== null) continue;
			} finally {
				file.close();
			}
		}
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

/**
 * Inputs at least this large are read by two processes, where there are two processors. Below it
 * the second process's start and its own compiler warm-up cost more than it saves. On two cores,
 * two processes were slower than one on 45 and 70 MB of the crash fixtures and on 54 MB of small
 * crashes, as fast on 91 MB of the fixtures, and 1.19x and 1.33x faster on 109 and 218 MB of
 * small crashes.
 */
const PARALLEL_FROM = 96 * 1024 * 1024;

async function runView(paths: readonly string[], similarity: Similarity, io: Io): Promise<number> {
	const style = styleFor(io.stdout.isTTY, io.env);
	const out = new BufferedOutput(io.stdout);
	const output = new ViewOutput(out, style);
	const look = {
		isTTY: io.stdout.isTTY === true,
		env: { NO_COLOR: io.env.NO_COLOR, FORCE_COLOR: io.env.FORCE_COLOR },
	};
	for (const input of openInputs(paths, io)) {
		const file = parallelFile(input, io);
		if (file !== null) {
			try {
				const read = await viewInParallel(file, input, similarity, style, look, output, out);
				if (read !== null) continue;
			} finally {
				file.close();
			}
		}
		const session = new ViewSession(similarity, style, (event) => output.add(event, input.name, 0));
		for await (const chunk of drained(input.chunks(), out)) session.write(chunk);
		session.end();
	}
	output.end();
	out.flush();
	return 0;
}

// GOCRASH_PARALLEL=0 reads every input with one process, 1 reads every regular file with two.
function parallelFile(input: InputSource, io: Io): RegularFile | null {
	const setting = io.env.GOCRASH_PARALLEL;
	if (setting === "0" || (setting !== "1" && availableParallelism() < 2)) return null;
	const file = input.file();
	if (file !== null && setting !== "1" && file.size - file.start < PARALLEL_FROM) {
		file.close();
		return null;
	}
	return file;
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
