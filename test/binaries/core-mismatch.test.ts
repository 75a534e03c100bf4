// Cores read with a binary that did not write them: the cores of test/binaries/corecrash built with
// Go 1.26 (the kernel's and gdb's gcore on linux/amd64, QEMU's on linux/arm64), each with the same
// program built as a PIE by the same toolchain and with the Go 1.25 build. The kernel and gdb keep
// the executable's first page, and with it its build id notes: the line names both ids, which
// `go tool buildid` and `readelf -n` must print too. QEMU's cores have no NT_FILE, so the entry
// point and the read-only data tell. Made by scripts/run-corecrash.sh in a directory of their own.
// Last, the built command line on truncated copies of the kernel's core.
import { execFile, execFileSync } from "node:child_process";
import {
	closeSync,
	mkdtempSync,
	openSync,
	readSync,
	rmSync,
	statSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI } from "../_serve.js";
import { runGocrash } from "./_cli.js";
import { readCoreJson } from "./_core-json.js";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "gocrash-core-mismatch-"));
const env = { ...process.env, CORECRASH_OUT: dir };
const made = (v: string, arch: string) => join(dir, `corecrash-go${v}-linux-${arch}`);
const pie = (arch: string) => join(dir, `corecrash-pie-${arch}`);
let go = "";

beforeAll(async () => {
	for (const arch of ["amd64", "arm64"]) {
		for (const v of ["1.26", "1.25"]) {
			await run(`${root}scripts/run-corecrash.sh`, [v, arch], { env, encoding: "utf8" });
		}
	}
	const toolchain = await run(`${root}scripts/go-toolchain.sh`, ["1.26"], {
		env: { ...process.env, GOTOOLCHAIN: "local" },
		encoding: "utf8",
	});
	go = toolchain.stdout.trim();
	for (const arch of ["amd64", "arm64"]) {
		// As scripts/run-corecrash.sh builds it, position-independent.
		await run(
			go,
			["build", "-trimpath", "-buildvcs=false", "-buildmode=pie", "-o", pie(arch), "."],
			{
				cwd: `${root}test/binaries/corecrash`,
				env: {
					...process.env,
					GOOS: "linux",
					GOARCH: arch,
					CGO_ENABLED: "0",
					GOTOOLCHAIN: "local",
					GOFLAGS: "-mod=mod",
					GOPROXY: "off",
					GOWORK: "off",
					GOCACHE: `${root}.cache/go-build`,
				},
			},
		);
	}
}, 900_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const goBuildId = (file: string) => execFileSync(go, ["tool", "buildid", file]).toString().trim();
const gnuBuildId = (file: string) =>
	/Build ID: ([0-9a-f]+)/.exec(execFileSync("readelf", ["-n", file]).toString())?.[1];

async function refused(bin: string, core: string): Promise<string> {
	const r = await runGocrash(["core", bin, core], { cwd: root });
	expect(r.stdout).toBe("");
	expect(r.code).toBe(1);
	const lines = r.stderr.split("\n");
	expect(lines).toHaveLength(2);
	expect(lines[1]).toBe("");
	expect(lines[0]).toMatch(
		new RegExp(
			`^gocrash core: ${core.replace(/[.]/g, "\\.")}: .*; pass the executable that wrote this core$`,
		),
	);
	return lines[0] as string;
}

describe.each(["crash", "gcore"])("linux/amd64, the %s core of the Go 1.26 build", (kind) => {
	const core = () => `${made("1.26", "amd64")}.${kind}.core`;

	test("is read with its own binary", async () => {
		const got = await readCoreJson(made("1.26", "amd64"), core());
		expect(got.goroutines.length).toBeGreaterThan(10);
	}, 60_000);

	test("with the PIE build: both Go build ids, as go tool buildid prints them", async () => {
		const line = await refused(pie("amd64"), core());
		const theirs = goBuildId(made("1.26", "amd64"));
		const ours = goBuildId(pie("amd64"));
		expect(theirs).not.toBe(ours);
		expect(line).toContain(
			`: Not the binary that made this core: the core's executable ${made("1.26", "amd64")} has Go build id ${theirs}, the binary ${ours};`,
		);
	}, 60_000);

	test("with the Go 1.25 build: both GNU build ids, as readelf -n prints them", async () => {
		const line = await refused(made("1.25", "amd64"), core());
		const theirs = gnuBuildId(made("1.26", "amd64"));
		const ours = gnuBuildId(made("1.25", "amd64"));
		expect(theirs).toMatch(/^[0-9a-f]{40}$/);
		expect(ours).toMatch(/^[0-9a-f]{40}$/);
		expect(theirs).not.toBe(ours);
		expect(line).toContain(`has GNU build id ${theirs}, the binary ${ours};`);
	}, 60_000);
});

describe("linux/arm64, QEMU's core of the Go 1.26 build (no NT_FILE, no build id)", () => {
	const core = () => `${made("1.26", "arm64")}.crash.core`;

	test("with the PIE build: the entry point agrees, the read-only data does not", async () => {
		const line = await refused(pie("arm64"), core());
		expect(line).toMatch(
			/: The core's copy of the segment at 0x[0-9a-f]+ differs from the binary at byte 0x[0-9a-f]+: not the binary that made this core;/,
		);
	}, 60_000);

	test("with the Go 1.25 build: the entry point differs", async () => {
		const line = await refused(made("1.25", "arm64"), core());
		expect(line).toMatch(
			/: The core's entry point \(AT_ENTRY\) 0x[0-9a-f]+ is not the binary's, 0x[0-9a-f]+: not the binary that made this core;/,
		);
	}, 60_000);
});

describe("the built command line on a truncated kernel core", () => {
	const bin = () => made("1.26", "amd64");
	function cut(length: number): string {
		const path = join(dir, `cut-${length}.core`);
		const bytes = new Uint8Array(length);
		const fd = openSync(`${bin()}.crash.core`, "r");
		readSync(fd, bytes, 0, length, 0);
		closeSync(fd);
		writeFileSync(path, bytes);
		return path;
	}
	const gocrash = (...args: string[]) =>
		run(process.execPath, [CLI, ...args]).then(
			(r) => ({ code: 0, ...r }),
			(error: { code: number; stdout: string; stderr: string }) => error,
		);

	// Cut in the ELF header, in the program headers, in the notes (at 0x708, 31 program headers
	// after the header), in the executable's first page and in the goroutines' stacks.
	test.each([40, 0x200, 0x900, 0x4800, 0x50000])(
		"cut at %i bytes: one line, exit status 1",
		async (length) => {
			const path = cut(length);
			const r = await gocrash("core", bin(), path);
			expect(r.code).toBe(1);
			expect(r.stdout).toBe("");
			expect(r.stderr).toMatch(
				new RegExp(
					`^gocrash core: ${path.replace(/[.]/g, "\\.")}: (Cannot read|Not a core file)[^\n]*\n$`,
				),
			);
		},
		60_000,
	);

	test("cut where only memory it does not read is lost: the whole core's report, said to be cut", async () => {
		const whole = await gocrash("core", "--json", bin(), `${bin()}.crash.core`);
		const r = await gocrash("core", "--json", bin(), cut(20 << 20));
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		const { truncated, ...rest } = JSON.parse(r.stdout);
		expect({ ...rest, truncated: null }).toEqual(JSON.parse(whole.stdout));
		// The segments end at or before the file's end (this kernel's cores have a page after them).
		expect(truncated.size).toBe(20 << 20);
		expect(truncated.expected).toBeGreaterThan(30 << 20);
		expect(truncated.expected).toBeLessThanOrEqual(statSync(`${bin()}.crash.core`).size);
		const view = await gocrash("core", bin(), cut(20 << 20));
		expect(view.stdout.split("\n")[1]).toBe(
			`the core file is truncated: ${20 << 20} of ${truncated.expected} bytes (a core size limit such as ulimit -c?); what is shown was read from the part kept`,
		);
	}, 60_000);
});
