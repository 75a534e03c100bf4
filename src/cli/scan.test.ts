import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { gocrash } from "../../test/binaries/_cli.js";
import { BINARY_FIXTURES, fixtureBytes } from "../../test/binaries/_fixtures.js";

test("scan --json follows the documented contract, one line per binary", async () => {
	const r = await gocrash(
		"scan",
		"--json",
		"netlink-go1.24-linux-arm64.gz",
		"frames-go1.26-linux-amd64.gz",
	);
	expect(r.code).toBe(0);
	const docs = r.stdout
		.trimEnd()
		.split("\n")
		.map((l) => JSON.parse(l));
	expect(docs).toHaveLength(2);
	const [arm, amd] = docs;
	expect(arm).toMatchObject({
		format: "elf",
		goVersion: "go1.24.4",
		goos: "linux",
		goarch: "arm64",
		verdict: "affected",
	});
	expect(arm.modules).toContainEqual(
		expect.objectContaining({ path: "github.com/vishvananda/netlink", version: "v1.1.0" }),
	);
	expect(typeof arm.functions).toBe("number");
	const receive = arm.splitSP.filter((s: { function: string }) => s.function.endsWith("Receive"));
	expect(receive).toHaveLength(6);
	expect(receive[0]).toEqual({
		function: "github.com/vishvananda/netlink/nl.(*NetlinkSocket).Receive",
		pc: expect.stringMatching(/^0x[0-9a-f]+$/),
		file: "github.com/vishvananda/netlink@v1.1.0/nl/nl_linux.go",
		line: expect.any(Number),
		frameSize: 0x10050,
		asm: false,
		preemptible: true,
		leaf: false,
		unsafePoint: -1,
		deltas: [0x50, 0x10000],
	});
	expect(amd).toMatchObject({ goarch: "amd64", verdict: "not-affected", splitSP: [] });
});

test("scan --fail-on affected gates CI", async () => {
	expect(
		(await gocrash("scan", "--fail-on", "affected", "netlink-go1.24-linux-arm64.gz")).code,
	).toBe(3);
	expect(
		(await gocrash("scan", "--fail-on", "affected", "netlink-go1.26-linux-arm64.gz")).code,
	).toBe(0);
	expect((await gocrash("scan", "--fail-on", "everything", "x")).code).toBe(2);
});

test("scan prints the verdict and the windows", async () => {
	const r = await gocrash("scan", "frames-go1.26-linux-arm64-stripped.gz");
	expect(r.code).toBe(0);
	expect(r.stdout).toContain("verdict: AFFECTED");
	expect(r.stdout).toMatch(
		/0x[0-9a-f]+ +main\.bigStack +main\.go:\d+ +0x10010 +leaf +go +preemptible/,
	);
	expect(r.stdout).toContain("Leaf functions: no toolchain fixes these");
	expect(r.stdout).toContain(
		"1 more split window(s) that are never async-preempted (assembly, runtime or unsafe points: debugCall65536); --all lists them",
	);
	const all = await gocrash("scan", "--all", "frames-go1.26-linux-arm64-stripped.gz");
	expect(all.stdout).toMatch(
		/0x[0-9a-f]+ +debugCall65536 +asm_arm64\.s:\d+ +0x10010 +leaf +asm +not preemptible \(assembly\)/,
	);
});

test("an unreadable binary is one line and exit status 1", async () => {
	const r = await gocrash("scan", "../README.md");
	expect(r.code).toBe(1);
	expect(r.stderr).toBe(
		"gocrash scan: ../README.md: Not an ELF, Mach-O or PE file (unknown magic at offset 0x0)\n",
	);
	const missing = await gocrash("scan", "no-such-file");
	expect(missing.code).toBe(1);
	expect(missing.stderr).toBe(
		`gocrash scan: ${BINARY_FIXTURES}no-such-file: no such file or directory\n`,
	);
});

test("an uncompressed binary, read on demand, gives the report of its gzip-compressed copy", async () => {
	const dir = mkdtempSync(join(tmpdir(), "gocrash-scan-"));
	try {
		const name = "frames-go1.19-linux-arm64-pie";
		const plain = join(dir, name);
		const bytes = fixtureBytes(name);
		writeFileSync(plain, bytes);
		const fromFile = await gocrash("scan", "--json", plain);
		const fromGzip = await gocrash("scan", "--json", `${name}.gz`);
		expect(fromFile.code).toBe(0);
		expect(JSON.parse(fromFile.stdout)).toEqual({ ...JSON.parse(fromGzip.stdout), file: plain });
		const cut = join(dir, "cut");
		writeFileSync(cut, bytes.subarray(0, 0x1000));
		const r = await gocrash("scan", cut);
		expect(r.code).toBe(1);
		expect(r.stderr).toMatch(new RegExp(`^gocrash scan: ${cut}: Cannot read [^\\n]+\\n$`));
	} finally {
		rmSync(dir, { recursive: true });
	}
});
