// Cores of corecrash built as binaries are often shipped (scripts/run-corecrash.sh VERSION GOARCH
// VARIANT): without DWARF (-ldflags=-w) every goroutine is read with the layout table, equal to
// the text the runtime printed, for every toolchain on amd64 and for Go 1.26 on arm64; without a
// symbol table (-ldflags=-s, which drops DWARF too, -ldflags='-s -w', or strip) `gocrash core`
// says in one line what is missing and what to use instead. So it does for a binary as a
// distribution ships it: Debian's panicparse, stripped, of a Go the table does not know.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseImage } from "../../src/binary/index.js";
import { runGocrash } from "./_cli.js";
import {
	CORE_VERSIONS,
	coresForEachVersion,
	expectPrintedGoroutines,
	printedGoroutines,
	readCoreJson,
} from "./_core-json.js";

const root = new URL("../../", import.meta.url).pathname;
const noDwarf = coresForEachVersion("run-corecrash.sh", ["amd64", "w"]);
const noDwarfArm64 = coresForEachVersion("run-corecrash.sh", ["arm64", "w"], ["1.26"]);
const noSymbols = {
	s: coresForEachVersion("run-corecrash.sh", ["amd64", "s"], ["1.26"]),
	sw: coresForEachVersion("run-corecrash.sh", ["amd64", "sw"], ["1.26"]),
	strip: coresForEachVersion("run-corecrash.sh", ["amd64", "strip"], ["1.26"]),
};

async function expectReadWithTable(bin: string, version: string, goarch: string) {
	const image = parseImage(new Uint8Array(readFileSync(bin)));
	expect(image.sections.some((s) => s.name.startsWith(".debug_"))).toBe(false);
	expect(image.hasSymbols).toBe(true);
	const got = await readCoreJson(bin, `${bin}.crash.core`);
	expect(got.layout).toBe("table");
	expect(got.goarch).toBe(goarch);
	expectPrintedGoroutines(
		got,
		printedGoroutines(readFileSync(`${bin}.crash.txt`, "utf8")),
		version,
	);
}

describe.each(CORE_VERSIONS)("go%s linux/amd64 -ldflags=-w", (v) => {
	test("no DWARF: the table's layout reads every goroutine the text printed", async () => {
		await expectReadWithTable(noDwarf[v] as string, v, "amd64");
	}, 60_000);
});

test("go1.26 linux/arm64 -ldflags=-w: the table's layout reads QEMU's core", async () => {
	await expectReadWithTable(noDwarfArm64["1.26"] as string, "1.26", "arm64");
}, 60_000);

describe.each(Object.entries(noSymbols))("go1.26 linux/amd64, variant %s", (_, binaries) => {
	test("no symbol table: one line saying so", async () => {
		const bin = binaries["1.26"] as string;
		const image = parseImage(new Uint8Array(readFileSync(bin)));
		expect(image.hasSymbols).toBe(false);
		expect(image.sections.some((s) => s.name.startsWith(".debug_"))).toBe(false);
		const core = `${bin}.crash.core`;
		const r = await runGocrash(["core", bin, core], { cwd: root });
		expect(r.code).toBe(1);
		expect(r.stdout).toBe("");
		expect(r.stderr).toBe(
			`gocrash core: ${core}: The binary has no symbol table (built with -ldflags=-s, or stripped): gocrash core needs runtime.allgs, runtime.gStatusStrings, runtime.waitReasonStrings from it; use the unstripped binary from the build\n`,
		);
	}, 60_000);
});

test("Debian's panicparse, stripped as Debian ships Go programs: gcore of it, one line", async () => {
	const dir = execFileSync(`${root}scripts/debian-fetch.sh`, ["panicparse"], { encoding: "utf8" });
	const bin = `${dir.trim()}/usr/bin/panicparse`;
	const image = parseImage(new Uint8Array(readFileSync(bin)));
	expect(image.hasSymbols).toBe(false);
	const work = mkdtempSync(join(tmpdir(), "gocrash-panicparse-"));
	// panicparse reads its standard input to the end: it waits while the core is taken.
	const program = spawn(bin, [], { stdio: ["pipe", "ignore", "ignore"] });
	try {
		await new Promise((r) => setTimeout(r, 500));
		execFileSync("gcore", ["-o", join(work, "core"), String(program.pid)], { stdio: "ignore" });
		const core = join(work, `core.${program.pid}`);
		const r = await runGocrash(["core", bin, core], { cwd: root });
		expect(r.code).toBe(1);
		expect(r.stdout).toBe("");
		expect(r.stderr).toBe(
			`gocrash core: ${core}: The binary has no symbol table (built with -ldflags=-s, or stripped): gocrash core needs runtime.allgs, runtime.gStatusStrings, runtime.waitReasonStrings from it; use the unstripped binary from the build\n`,
		);
	} finally {
		program.kill();
		rmSync(work, { recursive: true, force: true });
	}
}, 120_000);
