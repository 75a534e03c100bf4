// Go binaries older than Debian's toolchains, from the Go source tree's own test data (Debian's
// golang-1.26-src, fetched by scripts/go-toolchain.sh): a Go 1.17 linux/amd64 executable
// (src/debug/buildinfo/testdata/go117: pointer-format buildinfo, 1.16 pclntab layout) and a Go 1.15
// pclntab (src/debug/gosym/testdata/pcln115.gz: the Go 1.2 layout).
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { gunzipSync } from "node:zlib";
import { beforeAll, expect, test } from "vitest";
import {
	formatBuildInfo,
	parseGoBinary,
	readPclntabBytes,
	scanGoBinary,
} from "../../src/binary/index.js";
import { readOracleFunctions } from "./_oracle.js";

const root = new URL("../../", import.meta.url).pathname;
let tools: Record<string, string> = {};
let goSrc = "";

beforeAll(() => {
	const out = execFileSync(`${root}scripts/oracle-tools.sh`, { encoding: "utf8" });
	tools = Object.fromEntries(
		out
			.trim()
			.split("\n")
			.map((l) => l.split("=", 2) as [string, string]),
	);
	goSrc = `${(tools.GO as string).replace(/\/bin\/go$/, "")}/src`;
}, 900_000);

function go117(): { path: string; bytes: Uint8Array } {
	const text = readFileSync(`${goSrc}/debug/buildinfo/testdata/go117/go117.base64`, "utf8");
	const bytes = new Uint8Array(Buffer.from(text, "base64"));
	const path = `${tmpdir()}/gocrash-go117`;
	writeFileSync(path, bytes);
	return { path, bytes };
}

test("Go 1.17: pointer-format buildinfo equals go version -m", () => {
	const { path, bytes } = go117();
	const bin = parseGoBinary(bytes);
	expect(bin.buildInfo?.goVersion).toBe("go1.17");
	expect(bin.buildInfo?.main?.path).toBe("example.com/go117");
	const out = execFileSync(tools.GO as string, ["version", "-m", path], {
		encoding: "utf8",
		env: { ...process.env, GOTOOLCHAIN: "local" },
	});
	expect(
		`${path}: go1.17\n${formatBuildInfo(bin.buildInfo ?? { goVersion: "", path: "", deps: [], settings: [] })}\n`,
	).toBe(out);
});

test("Go 1.17: the 1.16 pclntab layout equals debug/gosym", () => {
	const { path, bytes } = go117();
	const bin = parseGoBinary(bytes);
	expect(bin.pclntab.version).toBe("1.16");
	const funcs = readOracleFunctions(
		execFileSync(tools.ORACLE as string, [path], { encoding: "utf8" }),
	);
	const tab = bin.pclntab;
	const ours = [];
	for (let i = 0; i < tab.nfunc; i++) {
		const f = tab.func(i);
		const at = tab.fileLine(f, f.entry);
		ours.push({ entry: f.entry, end: f.end, position: `${at.file}:${at.line}`, name: f.name });
	}
	expect(funcs.length).toBeGreaterThan(500);
	expect(ours).toEqual(funcs);
	const report = scanGoBinary(bin);
	expect(report).toMatchObject({ goarch: "amd64", verdict: "not-affected", splitSP: [] });
});

test("Go 1.15: the Go 1.2 pclntab layout (debug/gosym Test115PclnParsing)", () => {
	const table = new Uint8Array(
		gunzipSync(readFileSync(`${goSrc}/debug/gosym/testdata/pcln115.gz`)),
	);
	const tab = readPclntabBytes(table, 0);
	expect(tab.version).toBe("1.2");
	// The same facts the Go test checks: /tmp/hello.go:3 is main.main at 0x105c280.
	const i = tab.findFunc(0x105c280);
	const f = tab.func(i);
	expect(f.name).toBe("main.main");
	expect(f.entry).toBe(0x105c280);
	expect(tab.fileLine(f, 0x105c280)).toEqual({ file: "/tmp/hello.go", line: 3 });
});
