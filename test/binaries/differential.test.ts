// Differential tests: gocrash against Go's own tools on every fixture binary.
// - unstripped: the split pairs `go tool objdump` shows (ADD $lo, RSP, RSP directly followed by
//   ADD $(hi<<12), RSP, RSP) and the buildinfo `go version -m` prints;
// - stripped (objdump refuses): GNU aarch64-linux-gnu-objdump for the pairs plus the debug/gosym
//   oracle (test/binaries/oracle) for function names.
// The tools come from scripts/oracle-tools.sh (Debian's golang-1.26 and binutils).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { formatBuildInfo, parseGoBinary, scanGoBinary } from "../../src/binary/index.js";
import { binaryFixtures, fixtureBytes } from "./_fixtures.js";
import { gnuObjdumpPairs, goObjdumpPairs, type Pair, readOracleFunctions } from "./_oracle.js";

const root = new URL("../../", import.meta.url).pathname;
let tools: Record<string, string> = {};
let dir = "";

beforeAll(() => {
	const out = execFileSync(`${root}scripts/oracle-tools.sh`, { encoding: "utf8" });
	tools = Object.fromEntries(
		out
			.trim()
			.split("\n")
			.map((l) => l.split("=", 2) as [string, string]),
	);
	dir = mkdtempSync(`${tmpdir()}/gocrash-diff-`);
}, 900_000);

afterAll(() => {
	if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

function materialise(name: string): string {
	const path = `${dir}/${name}`;
	writeFileSync(path, fixtureBytes(name));
	return path;
}

function ours(name: string): Pair[] {
	return scanGoBinary(parseGoBinary(fixtureBytes(name)))
		.splitSP.map((s) => ({ function: s.function, pc: s.pc }))
		.sort((a, b) => a.pc - b.pc);
}

const fixtures = binaryFixtures();

describe.each(fixtures.filter((f) => f.variant !== "stripped"))("$name vs go tool", (fx) => {
	test("split pairs equal go tool objdump's", () => {
		const out = execFileSync(tools.GO as string, ["tool", "objdump", materialise(fx.name)], {
			encoding: "utf8",
			maxBuffer: 1 << 30,
			env: { ...process.env, GOTOOLCHAIN: "local" },
		});
		const theirs = goObjdumpPairs(out, fx.goos === "darwin");
		if (fx.goarch === "arm64") expect(theirs.length).toBeGreaterThan(0);
		expect(ours(fx.name)).toEqual(theirs);
	});

	test("buildinfo equals go version -m", () => {
		const path = materialise(fx.name);
		const out = execFileSync(tools.GO as string, ["version", "-m", path], {
			encoding: "utf8",
			env: { ...process.env, GOTOOLCHAIN: "local" },
		});
		const info = parseGoBinary(fixtureBytes(fx.name)).buildInfo;
		expect(info).toBeDefined();
		if (info === undefined) return;
		expect(`${path}: ${info.goVersion}\n${formatBuildInfo(info)}\n`).toBe(out);
	});
});

describe.each(fixtures.filter((f) => f.goos === "linux"))("$name vs debug/gosym", (fx) => {
	test("function table and entry file:line equal debug/gosym's", () => {
		const funcs = readOracleFunctions(
			execFileSync(tools.ORACLE as string, [materialise(fx.name)], {
				encoding: "utf8",
				maxBuffer: 1 << 30,
			}),
		);
		const tab = parseGoBinary(fixtureBytes(fx.name)).pclntab;
		const ours = [];
		for (let i = 0; i < tab.nfunc; i++) {
			const f = tab.func(i);
			const at = tab.fileLine(f, f.entry);
			ours.push({ entry: f.entry, end: f.end, position: `${at.file}:${at.line}`, name: f.name });
		}
		expect(ours).toEqual(funcs);
	});
});

describe.each(fixtures.filter((f) => f.variant === "stripped"))(
	"$name vs GNU objdump + gosym",
	(fx) => {
		test("split pairs equal GNU objdump's, named by debug/gosym", () => {
			const path = materialise(fx.name);
			const asm = execFileSync(tools.OBJDUMP as string, ["-d", "--no-show-raw-insn", path], {
				encoding: "utf8",
				maxBuffer: 1 << 30,
			});
			const funcs = readOracleFunctions(
				execFileSync(tools.ORACLE as string, [path], { encoding: "utf8", maxBuffer: 1 << 30 }),
			);
			const theirs = gnuObjdumpPairs(asm, funcs);
			expect(theirs.length).toBeGreaterThan(0);
			expect(ours(fx.name)).toEqual(theirs);
		});
	},
);
