// Real arm64 Go programs from Debian (scripts/fetch-arm64-debs.sh): stripped, externally linked,
// PIE, tens of MB. gocrash must find the text start and pclntab without symbols, and its split
// pairs must equal GNU objdump's, named by the debug/gosym oracle.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import { parseGoBinary, type ScanReport, scanGoBinary } from "../../src/binary/index.js";
import { gocrash } from "./_cli.js";
import { gnuObjdumpPairs, readOracleFunctions } from "./_oracle.js";

const root = new URL("../../", import.meta.url).pathname;
const programs: Record<string, string> = {};
let tools: Record<string, string> = {};

// The fetches run asynchronously: a worker blocked for a minute misses vitest's RPC deadline.
beforeAll(async () => {
	const paths = (
		await execFileAsync(`${root}scripts/fetch-arm64-debs.sh`, { encoding: "utf8" })
	).stdout
		.trim()
		.split("\n");
	for (const p of paths) programs[p.slice(p.lastIndexOf("/") + 1)] = p;
	const out = (await execFileAsync(`${root}scripts/oracle-tools.sh`, { encoding: "utf8" })).stdout;
	tools = Object.fromEntries(
		out
			.trim()
			.split("\n")
			.map((l) => l.split("=", 2) as [string, string]),
	);
}, 900_000);

const reports = new Map<string, ScanReport>();
function scan(name: string): ScanReport {
	let r = reports.get(name);
	if (r === undefined) {
		const bin = parseGoBinary(readFileSync(programs[name] as string));
		expect(bin.image.hasSymbols).toBe(false);
		r = scanGoBinary(bin);
		reports.set(name, r);
	}
	return r;
}

describe.each(["dockerd", "containerd", "rclone"])("%s", (name) => {
	test("split pairs equal GNU objdump + debug/gosym", () => {
		const path = programs[name] as string;
		const asm = execFileSync(
			"sh",
			[
				"-c",
				`"$0" -d --no-show-raw-insn "$1" | grep -E 'sp, sp, #'`,
				tools.OBJDUMP as string,
				path,
			],
			{
				encoding: "utf8",
				maxBuffer: 1 << 30,
			},
		);
		const funcs = readOracleFunctions(
			execFileSync(tools.ORACLE as string, [path], { encoding: "utf8", maxBuffer: 1 << 30 }),
		);
		const theirs = gnuObjdumpPairs(asm, funcs);
		const ours = scan(name)
			.splitSP.map((s) => ({ function: s.function, pc: s.pc }))
			.sort((a, b) => a.pc - b.pc);
		expect(theirs.length).toBeGreaterThan(0);
		expect(ours).toEqual(theirs);
		expect(scan(name).functions).toBe(funcs.length);
	});
});

test("dockerd (go1.19.8) carries the split netlink Receive of the production crashes", () => {
	const r = scan("dockerd");
	expect(r.goVersion).toBe("go1.19.8");
	expect(r.verdict).toBe("affected");
	expect(r.nonLeafFix).toBe(false);
	expect(r.hazardousFunctions.nonLeaf).toContain(
		"github.com/vishvananda/netlink/nl.(*NetlinkSocket).Receive",
	);
});

test("containerd (go1.24.4) is affected, rclone (go1.27) shows the fixed epilogues", () => {
	expect(scan("containerd").verdict).toBe("affected");
	const rclone = scan("rclone");
	expect(rclone.goVersion).toMatch(/^go1\.27\./);
	expect(rclone.nonLeafFix).toBe(true);
	expect(rclone.fixedEpilogues.length).toBeGreaterThan(0);
	expect(rclone.verdict).toBe("not-affected");
});

test("disasm shows data words inside a function (a jump table) as undecodable and goes on", async () => {
	// fsnotify's readEvents in dockerd ends with a table of 32-bit offsets after its last return.
	const r = await gocrash(
		"disasm",
		programs.dockerd as string,
		"github.com/fsnotify/fsnotify.(*Watcher).readEvents",
	);
	expect(r.stderr).toBe("");
	expect(r.code).toBe(0);
	const rows = r.stdout.split("\n").filter((l) => /^ {2}.{3}\S+:\d+ +0x[0-9a-f]+ /.test(l));
	const data = rows.filter((l) => l.includes("(undecodable)"));
	expect(data.length).toBeGreaterThan(0);
	// Every word of the function is listed once, in order.
	const pcs = rows.map((l) => Number.parseInt(/ (0x[0-9a-f]+) /.exec(l)?.[1] ?? "", 16));
	pcs.forEach((pc, i) => {
		if (i > 0) expect(pc - (pcs[i - 1] ?? 0)).toBe(4);
	});
	expect(r.stdout.match(/SPLIT SP/g)?.length).toBeGreaterThan(0);
});
