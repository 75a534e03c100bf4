import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, test } from "vitest";
import { listCrashFixtures } from "../../test/_fixtures.js";
import { collector } from "../../test/_output.js";
import { CrashScanner } from "../traceback/index.js";
import { openInputs } from "./_input.js";
import type { Io } from "./_io.js";
import { ParseJsonWriter } from "./_parse-json.js";
import { jsonInParallel, viewInParallel } from "./_parse-parallel.js";
import { styleFor } from "./_style.js";
import { ViewOutput, ViewSession } from "./_view-session.js";

// These tests start the child from dist/, which `npm install` builds (npm run build after edits).
const scratch = mkdtempSync(join(tmpdir(), "gocrash-parallel-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const texts = listCrashFixtures().map((f) => f.text);
const style = styleFor(false, {});
const look = { isTTY: false, env: {} };

const io: Io = {
	stdin: new PassThrough().end(),
	stdout: new PassThrough(),
	stderr: new PassThrough(),
	env: {},
	cwd: process.cwd(),
};

/** The grouped view of `text` read by one process, and by two; and where the second took over. */
async function views(text: string) {
	const path = join(scratch, "input.txt");
	writeFileSync(path, text);
	const one = collector();
	const alone = new ViewOutput(one.out, style);
	const session = new ViewSession("pointers", style, (e) => alone.add(e, path, 0));
	session.write(Buffer.from(text));
	session.end();
	alone.end();
	one.out.flush();

	const two = collector();
	const shared = new ViewOutput(two.out, style);
	const input = openInputs([path], io)[0];
	const file = input?.file();
	if (input === undefined || file == null) throw new Error(`${path} is not a regular file`);
	const read = await viewInParallel(file, input, "pointers", style, look, shared, two.out);
	file.close();
	shared.end();
	two.out.flush();
	return { one: one.text(), two: two.text(), read };
}

/**
 * `gocrash parse ARGS - -` with standard input a file the shell had read part of, by one process
 * and by two: the second `-` finds standard input read to its end, whichever way it was read.
 */
function parseStdinPartlyRead(name: string, args: readonly string[]) {
	const path = join(scratch, name);
	const skipped = "some other output\n".repeat(1000);
	writeFileSync(path, skipped + texts.join("\n"));
	const cli = join(import.meta.dirname, "../../dist/cli/bin.js");
	const parse = (parallel: string) => {
		const fd = openSync(path, "r");
		try {
			readSync(fd, Buffer.alloc(skipped.length), 0, skipped.length, null);
			const ran = spawnSync(process.execPath, [cli, "parse", ...args, "-", "-"], {
				stdio: [fd, "pipe", "pipe"],
				env: { ...process.env, GOCRASH_PARALLEL: parallel, NO_COLOR: "1" },
				maxBuffer: 1 << 30,
			});
			return { code: ran.status, stdout: ran.stdout.toString() };
		} finally {
			closeSync(fd);
		}
	};
	return { one: parse("0"), two: parse("1") };
}

describe("the grouped view read by two processes", () => {
	// Every fixture in turn, rotated so that the child starts at different crashes and reports.
	test.each([0, 1, 7, 300, 611])(
		"fixtures rotated by %i: the same output, the child's part used",
		async (rotation) => {
			const text = [...texts.slice(rotation), ...texts.slice(0, rotation)].join("\n");
			const { one, two, read } = await views(text);
			expect(read?.handover).toBeGreaterThan(0);
			expect(two).toBe(one);
			expect(one).toMatch(/━━ crash 1 · /);
		},
	);

	test("crashes ended by other output, not by exit status: the readers agree later", async () => {
		const other = Array.from({ length: 50 }, (_, i) => `service: request ${i} served`).join("\n");
		const text = texts.map((t) => t.replace(/^exit status \d+$/gm, "")).join(`\n${other}\n`);
		const { one, two, read } = await views(text);
		expect(read?.handover).toBeGreaterThan(0);
		expect(two).toBe(one);
	});

	test("a crash whose text is larger than the buffers that copy it", async () => {
		const stacks = Array.from(
			{ length: 40_000 },
			(_, i) => `goroutine ${i + 2} [select]:\nmain.worker${i}()\n\t/src/app/w.go:${i + 1} +0x1d\n`,
		);
		const big = `panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/app/main.go:9 +0x1d\n\n${stacks.join("\n")}`;
		const { one, two, read } = await views(`${texts.join("\n")}\n${big}\nexit status 2\n`);
		expect(read?.handover).toBeGreaterThan(0);
		expect(one.length).toBeGreaterThan(2 * 1024 * 1024);
		expect(two).toBe(one);
	});

	test("a log where every line is a sync point: the child's last message still arrives", async () => {
		// Lines without digits are not learned as other output, so nothing is open after each.
		const log = Array.from({ length: 2000 }, () => "INFO request served ok").join("\n");
		const { one, two, read } = await views(texts.map((t) => `${log}\n${t}`).join("\n"));
		expect(read?.handover).toBeGreaterThan(0);
		expect(two).toBe(one);
	});

	test("a child that cannot start: this process reads it all", async () => {
		const execPath = process.execPath;
		process.execPath = join(scratch, "no-such-node");
		try {
			const { one, two, read } = await views(texts.join("\n"));
			expect(read).toEqual({ handover: null });
			expect(two).toBe(one);
		} finally {
			process.execPath = execPath;
		}
	});

	test("no temporary directory for the child's records: one process reads it", async () => {
		const tmp = process.env.TMPDIR;
		process.env.TMPDIR = join(scratch, "no-such-directory");
		try {
			const two = collector();
			const input = openInputs([join(scratch, "input.txt")], io)[0];
			writeFileSync(join(scratch, "input.txt"), texts.join("\n"));
			const file = input?.file();
			if (input === undefined || file == null) throw new Error("input.txt is not a regular file");
			const output = new ViewOutput(two.out, style);
			expect(
				await viewInParallel(file, input, "pointers", style, look, output, two.out),
			).toBeNull();
			file.close();
		} finally {
			if (tmp === undefined) delete process.env.TMPDIR;
			else process.env.TMPDIR = tmp;
		}
	});

	test("the search for a place to split gives up on text like a report on every line", async () => {
		// The middle falls among the SIGHUP lines, and the next crash is far past the lines read.
		const sighup = "worker got SIGHUP, reloading\n".repeat(200_000);
		const { read } = await views(`${texts[0]}\n${sighup}${texts[1]}`);
		expect(read).toBeNull();
	});

	test("one long goroutine dump has no place to split: one process reads it", async () => {
		const dump = texts.find((t) => t.includes("goroutine 200 ")) ?? "";
		const { read } = await views(dump.replace(/\n(exit status|panic:|fatal error:).*\n/g, "\n"));
		expect(read).toBeNull();
	});

	test("standard input from a file, partly read already, as the command reads it", () => {
		const { one, two } = parseStdinPartlyRead("stdin.txt", []);
		expect(one.code).toBe(0);
		expect(two).toEqual(one);
		expect(one.stdout).toMatch(/<stdin>:1-/);
	});
});

/** The --json document of `text` read by one process, and by two; and where the second took over. */
async function documents(text: string) {
	const path = join(scratch, "input.json.txt");
	writeFileSync(path, text);
	const one = collector();
	const alone = new ParseJsonWriter(one.out);
	alone.startInput(path);
	const scanner = new CrashScanner(
		{
			goroutine: (g, crash) => alone.goroutine(g, crash),
			crash: (crash) => alone.crash(crash),
			race: (race) => alone.race(race),
		},
		{ keep: false },
	);
	scanner.write(text);
	const result = scanner.end();
	alone.endInput(result.issues, result.raceCount, result.lines);
	alone.end();
	one.out.flush();

	const two = collector();
	const shared = new ParseJsonWriter(two.out);
	const input = openInputs([path], io)[0];
	const file = input?.file();
	if (input === undefined || file == null) throw new Error(`${path} is not a regular file`);
	shared.startInput(path);
	const read = await jsonInParallel(file, input, shared, two.out);
	file.close();
	shared.end();
	two.out.flush();
	return { one: one.text(), two: two.text(), read };
}

describe("--json read by two processes", () => {
	test.each([0, 3, 300])(
		"fixtures rotated by %i: the same document, the child's part used",
		async (rotation) => {
			const text = [...texts.slice(rotation), ...texts.slice(0, rotation)].join("\n");
			const { one, two, read } = await documents(text);
			expect(read?.handover).toBeGreaterThan(0);
			expect(two).toBe(one);
			const document = JSON.parse(one);
			// Race reports and their count, and issues, come from both parts.
			expect(document.races.length).toBeGreaterThan(10);
			expect(document.raceCount).toBeGreaterThan(0);
			expect(document.issues.length).toBeGreaterThan(0);
			expect(document.crashes.at(-1).goroutines.at(-1).line).toBeGreaterThan(100_000);
		},
	);

	test("more issues than are listed, on both sides of the handover", async () => {
		// Each junk line inside a crash, followed by a frame, is an unplaced line.
		const junk = Array.from({ length: 20 }, (_, i) => `junk ${i}\nmain.f()\n\t/src/a.go:1 +0x1`);
		const crash = `panic: boom\n\ngoroutine 1 [running]:\n${junk.join("\n")}\n\nexit status 2\n`;
		const { one, two, read } = await documents(crash.repeat(800));
		expect(read?.handover).toBeGreaterThan(0);
		expect(two).toBe(one);
		expect(JSON.parse(one).issues.at(-1).message).toBe("6000 more issues not listed");
	});

	test("a crash whose text is larger than the buffers that copy it", async () => {
		const stacks = Array.from(
			{ length: 40_000 },
			(_, i) => `goroutine ${i + 2} [select]:\nmain.worker${i}()\n\t/src/app/w.go:${i + 1} +0x1d\n`,
		);
		const big = `panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/app/main.go:9 +0x1d\n\n${stacks.join("\n")}`;
		const { one, two, read } = await documents(`${texts.join("\n")}\n${big}\nexit status 2\n`);
		expect(read?.handover).toBeGreaterThan(0);
		expect(one.length).toBeGreaterThan(4 * 1024 * 1024);
		expect(two).toBe(one);
	});

	test("standard input from a file, partly read already, as the command reads it", () => {
		const { one, two } = parseStdinPartlyRead("stdin.json.txt", ["--json"]);
		expect(one.code).toBe(0);
		expect(two).toEqual(one);
		// Line numbers count from where the shell left standard input.
		expect(JSON.parse(one.stdout).crashes[0].startLine).toBe(1);
	});
});

describe("two processes, when the second fails part way", () => {
	// Its records stop at the file size limit (as on a full disk): this process reads on from
	// where it would have taken them over, or reads it all when it had not got that far.
	const path = join(scratch, "limited.txt");
	writeFileSync(path, texts.join("\n"));
	const cli = join(import.meta.dirname, "../../dist/cli/bin.js");
	const parse = (args: string, parallel: string, limit = "unlimited") =>
		spawnSync(
			"sh",
			["-c", `ulimit -f ${limit}; exec "$0" "$1" parse ${args} "$2"`, process.execPath, cli, path],
			{
				env: { ...process.env, GOCRASH_PARALLEL: parallel, NO_COLOR: "1" },
				maxBuffer: 1 << 30,
			},
		);
	test.each(["--json", "--similarity pointers"])("parse %s: the same output", (args) => {
		const one = parse(args, "0");
		expect(one.status).toBe(0);
		for (const limit of ["1000", "3000", "6000"]) {
			const two = parse(args, "1", limit);
			expect(two.stderr.toString()).toBe("");
			expect(two.status).toBe(0);
			expect(two.stdout.equals(one.stdout)).toBe(true);
		}
	});
});
