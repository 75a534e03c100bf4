import {
	createReadStream,
	mkdtempSync,
	openSync,
	readFileSync,
	readSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import { listCrashFixtures } from "../../test/_fixtures.js";
import { parseCrashes, type RaceReport } from "../traceback/index.js";
import type { Io } from "./_io.js";
import { run } from "./main.js";

interface Ran {
	code: number;
	stdout: string;
	stderr: string;
}

async function gocrash(
	args: string[],
	options: { stdin?: string | Buffer | Readable; env?: Record<string, string>; tty?: boolean } = {},
): Promise<Ran> {
	const out: Buffer[] = [];
	const err: Buffer[] = [];
	const collect = (into: Buffer[]) =>
		new Writable({
			write(chunk, _encoding, done) {
				into.push(Buffer.from(chunk));
				done();
			},
		});
	const stdout = Object.assign(collect(out), { isTTY: options.tty ?? false });
	const io: Io = {
		stdin:
			options.stdin === undefined
				? new PassThrough().end()
				: options.stdin instanceof Readable
					? options.stdin
					: Readable.from([Buffer.from(options.stdin)]),
		stdout,
		stderr: collect(err),
		env: options.env ?? {},
		cwd: process.cwd(),
	};
	const code = await run(args, io);
	return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

const fixtures = listCrashFixtures();
const dump =
	fixtures.find((f) => f.meta.scenario === "many-goroutines" && f.meta.gotraceback === "all") ??
	fixtures[0];
const race = fixtures.find((f) => f.meta.expect?.kind === "race");
if (dump === undefined || race === undefined)
	throw new Error("crash fixtures missing: run scripts/capture-crashes.sh");
const scratch = mkdtempSync(join(tmpdir(), "gocrash-parse-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("gocrash parse --json", () => {
	test("keeps the contract: crashes with message and goroutines with id, state and frames", async () => {
		const ran = await gocrash(["parse", "--json", dump.path]);
		expect(ran.code).toBe(0);
		const doc = JSON.parse(ran.stdout);
		const expected = parseCrashes(dump.text);
		expect(doc.crashes.map((c: { message: string | null }) => c.message)).toEqual(
			expected.crashes.map((c) => c.message),
		);
		const first = doc.crashes[0];
		expect(first.goroutines.map((g: { id: number }) => g.id)).toEqual(
			expected.crashes[0]?.goroutines.map((g) => g.id),
		);
		for (const goroutine of first.goroutines) {
			expect(typeof goroutine.state).toBe("string");
			for (const frame of goroutine.frames) {
				expect(typeof frame.function).toBe("string");
				expect(frame.file === null || typeof frame.file === "string").toBe(true);
				expect(frame.line === null || Number.isInteger(frame.line)).toBe(true);
			}
		}
		expect(doc.races).toEqual([]);
	});

	test("race reports beyond what memory holds come back whole and in order", async () => {
		// Some 4 MB of race reports: more than the writer keeps in memory before it spills.
		const one: RaceReport[] = JSON.parse(JSON.stringify(parseCrashes(race.text).races));
		const copies = Math.ceil((5 * 1024 * 1024) / JSON.stringify(one).length);
		const file = join(scratch, "races.txt");
		writeFileSync(file, `${race.text}\n`.repeat(copies));
		const ran = await gocrash(["parse", "--json", file]);
		expect(ran.code).toBe(0);
		const doc = JSON.parse(ran.stdout);
		expect(doc.races).toHaveLength(one.length * copies);
		const lines = race.text.split("\n").length;
		doc.races.forEach((r: { startLine: number; accesses: unknown }, i: number) => {
			const first = one[i % one.length];
			expect(r.startLine).toBe((first?.startLine ?? 0) + lines * Math.floor(i / one.length));
			expect(r.accesses).toEqual(first?.accesses);
		});
	});

	test("reads standard input, gzip files, and several inputs in order", async () => {
		const gz = join(scratch, "race.txt.gz");
		writeFileSync(gz, gzipSync(readFileSync(race.path)));
		const ran = await gocrash(["parse", "--json", gz, "-"], { stdin: dump.text });
		expect(ran.code).toBe(0);
		const doc = JSON.parse(ran.stdout);
		expect(doc.inputs.map((i: { source: string }) => i.source)).toEqual([gz, "<stdin>"]);
		expect(doc.races.length).toBe(parseCrashes(race.text).races.length);
		expect(doc.races.length).toBeGreaterThan(0);
		expect(doc.crashes.at(-1).source).toBe("<stdin>");
	});

	test("a file of several megabytes reads the same by path, gzipped, and as standard input", async () => {
		const copies = Math.ceil((3 * 1024 * 1024) / dump.text.length);
		const text = `${dump.text}\n`.repeat(copies);
		const file = join(scratch, "dumps.txt");
		writeFileSync(file, text);
		// Stored uncompressed, so the gzip file too takes several reads.
		writeFileSync(`${file}.gz`, gzipSync(text, { level: 0 }));
		const crashesOf = (ran: Ran) => JSON.parse(ran.stdout).crashes.map(withoutSource);
		const expected = crashesOf(await gocrash(["parse", "--json", "-"], { stdin: text }));
		expect(expected).toHaveLength(parseCrashes(dump.text).crashes.length * copies);
		for (const path of [file, `${file}.gz`]) {
			expect(crashesOf(await gocrash(["parse", "--json", path]))).toEqual(expected);
		}
		// Standard input redirected from a file is read from wherever the descriptor stands.
		const shifted = join(scratch, "shifted.txt");
		writeFileSync(shifted, `skipped by the shell\n${text}`);
		const fd = openSync(shifted, "r");
		readSync(fd, Buffer.alloc("skipped by the shell\n".length));
		const stdin = createReadStream("", { fd });
		expect(crashesOf(await gocrash(["parse", "--json", "-"], { stdin }))).toEqual(expected);
	});
});

// A crash without the name of the input it came from.
function withoutSource(crash: { source: string }) {
	const { source: _, ...rest } = crash;
	return rest;
}

describe("gocrash parse", () => {
	test("groups goroutines, the crashed one first, without colour when not a terminal", async () => {
		const ran = await gocrash(["parse", dump.path]);
		expect(ran.code).toBe(0);
		expect(ran.stdout).not.toContain("\x1b[");
		const crash = parseCrashes(dump.text).crashes[0];
		expect(ran.stdout).toContain(crash?.message ?? "goroutine dump");
		expect(ran.stdout).toMatch(new RegExp(`${crash?.goroutines.length} goroutines in \\d+ stacks`));
	});

	test("colours a terminal unless NO_COLOR is set", async () => {
		expect((await gocrash(["parse", dump.path], { tty: true })).stdout).toContain("\x1b[");
		expect(
			(await gocrash(["parse", dump.path], { tty: true, env: { NO_COLOR: "1" } })).stdout,
		).not.toContain("\x1b[");
	});

	test("merges goroutines that differ only in their parent id", async () => {
		const ran = await gocrash(["parse", "--similarity", "values", dump.path]);
		const buckets = [...ran.stdout.matchAll(/^(\d+) goroutines? · /gm)].map((m) => Number(m[1]));
		const total = parseCrashes(dump.text).crashes[0]?.goroutines.length;
		expect(buckets.reduce((a, b) => a + b, 0)).toBe(total);
		expect(buckets.length).toBeLessThan(total ?? 0);
	});

	test("shows the object dump's marked words only, when the runtime printed many", async () => {
		const words = Array.from({ length: 40 }, (_, i) => ` *(object+${i * 8}) = 0x${i.toString(16)}`);
		words[5] += " <==";
		const text = [
			"runtime: pointer 0xc000d8b750 to unused region of span span.base()=0xc000b12000 span.limit=0xc000b13fe0 span.state=1",
			"runtime: found in object at *(0xc00112a040+0x28)",
			"object=0xc00112a040 s.base()=0xc00112a000 s.limit=0xc00112c000 s.spanclass=8 s.elemsize=320 s.state=mSpanInUse",
			...words,
			" ...",
			"fatal error: found bad pointer in Go heap (incorrect use of unsafe or cgo?)",
			"",
			"goroutine 1 [running]:",
			"main.main()",
			"\t/app/main.go:5 +0x1c",
			"",
		].join("\n");
		const ran = await gocrash(["parse", "-"], { stdin: text });
		expect(ran.stdout).toContain("*(object+40) = 0x5 <==\n");
		expect(ran.stdout).not.toContain("*(object+48)");
		expect(ran.stdout).toContain("… 40 more lines of the runtime's object dump (--json has them)");
		expect(ran.stdout).toContain("0 issues");
	});

	test("marks where a panic's value came from, below the handler that panicked again", async () => {
		const text = [
			"panic: boom [recovered]",
			"\tpanic: boom",
			"",
			"goroutine 1 [running]:",
			"main.handler()",
			"\t/app/main.go:9 +0x6e",
			"panic({0x4a1b20?, 0x4d2c40?})",
			"\t/usr/local/go/src/runtime/panic.go:770 +0x132",
			"main.work()",
			"\t/app/main.go:4 +0x25",
			"main.main()",
			"\t/app/main.go:14 +0x1c",
			"",
		].join("\n");
		const ran = await gocrash(["parse", "-"], { stdin: text });
		expect(ran.stdout).toMatch(/^ {4}main\.handler\(\) +\/app\/main\.go:9$/m);
		expect(ran.stdout).toMatch(/^ {2}▶ main\.work\(\) +\/app\/main\.go:4$/m);
	});

	test("shows a multi-line panic value once: its first line as the message, the rest below", async () => {
		const text =
			"panic: request failed\n\tstatus: 503\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:5 +0x1c\n";
		const ran = await gocrash(["parse", "-"], { stdin: text });
		expect(ran.stdout.match(/request failed/g)).toHaveLength(1);
		expect(ran.stdout).toContain("panic: request failed\n    status: 503\n");
	});

	test("says no crash was found in text without one", async () => {
		const ran = await gocrash(["parse", "-"], { stdin: "just\na log\n" });
		expect(ran.code).toBe(0);
		expect(ran.stdout).toContain("no Go crash, goroutine dump or race report found");
	});
});

describe("bad input and bad calls", () => {
	test("a missing file is one line naming it, exit 1", async () => {
		const ran = await gocrash(["parse", join(scratch, "nope.txt")]);
		expect(ran.code).toBe(1);
		expect(ran.stderr).toBe(
			`gocrash parse: ${join(scratch, "nope.txt")}: no such file or directory\n`,
		);
	});

	test("a directory is one line naming it, exit 1", async () => {
		const ran = await gocrash(["parse", scratch]);
		expect(ran.code).toBe(1);
		expect(ran.stderr).toBe(`gocrash parse: ${scratch}: is a directory, not a file\n`);
	});

	test("corrupt gzip is one line naming the file, exit 1", async () => {
		const bad = join(scratch, "bad.gz");
		writeFileSync(
			bad,
			Buffer.concat([gzipSync(Buffer.from("panic: x\n")).subarray(0, 12), Buffer.from("garbage")]),
		);
		const ran = await gocrash(["parse", bad]);
		expect(ran.code).toBe(1);
		expect(ran.stderr).toMatch(
			new RegExp(`^gocrash parse: ${bad}: cannot decompress gzip data: .+\\n$`),
		);
	});

	test("an unknown similarity is a usage error, exit 2", async () => {
		const ran = await gocrash(["parse", "--similarity", "fuzzy", dump.path]);
		expect(ran.code).toBe(2);
		expect(ran.stderr.split("\n")[0]).toBe(
			"gocrash parse: --similarity must be one of exact, pointers, values, not 'fuzzy'",
		);
	});

	test("an unknown option is a usage error, exit 2", async () => {
		const ran = await gocrash(["parse", "--colour"]);
		expect(ran.code).toBe(2);
		expect(ran.stderr.split("\n")[0]).toMatch(/^gocrash parse: Unknown option '--colour'/);
	});

	test("an unknown command lists the commands, exit 2", async () => {
		const ran = await gocrash(["parce"]);
		expect(ran.code).toBe(2);
		expect(ran.stderr).toContain("gocrash: unknown command 'parce'");
		expect(ran.stderr).toContain("parse");
	});
});
