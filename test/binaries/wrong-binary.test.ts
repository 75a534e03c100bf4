// `gocrash diagnose --binary` with the binary that crashed and with binaries that did not: the
// split-SP reproducer's real crashes and binaries (Debian's go1.24.4 and go1.26.10, linux/arm64,
// not position-independent), a crashgen crash of go1.24.4 whose frames name /usr/lib/go-1.24/, and
// test/binaries/piecrash built as a PIE by scripts/run-piecrash.sh and run natively, so that the
// kernel loads it at a random base, and its "next build" (one line added) made here.
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { runGocrash } from "./_cli.js";
import { BINARY_FIXTURES } from "./_fixtures.js";

const execFileAsync = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
const cwd = `${root}test/fixtures/`;
const splitSP = "diagnose/split-sp/";
const nonLeafText = `${splitSP}go1.24.4-arm64-non-leaf.txt`;
const nonLeafBin = `${splitSP}splitsp-go1.24.4-linux-arm64-non-leaf.gz`;
const leafBin = `${splitSP}splitsp-go1.26.10-linux-arm64-leaf.gz`;

const diagnose = (...argv: string[]) => runGocrash(["diagnose", ...argv], { cwd });

describe("diagnose --binary with a binary that did not crash", () => {
	it("says so in one line, with what differs, and diagnoses from the text alone", async () => {
		const r = await diagnose(nonLeafText, "--binary", leafBin);
		expect(r.code).toBe(0);
		expect(r.stderr).toBe("");
		const [head, line] = r.stdout.split("\n");
		expect(head).toBe(`${nonLeafText}: 1 crash; ?/arm64`);
		expect(line).toMatch(
			new RegExp(
				`^${leafBin.replace(/\./g, "\\.")} does not match this crash: binary is go1\\.26\\.10, crash is go1\\.24\\.4; 1 of 86 frames' functions are not in the binary; 75 of 86 frames' file:line differ .*; it is left out of the evidence$`,
			),
		);
		// The same finding as without a binary: the wrong binary neither confirms nor rules it out.
		const alone = await diagnose(nonLeafText);
		expect(r.stdout.replace(`${line}\n`, "")).toBe(alone.stdout);
		expect(r.stdout).toMatch(/^LIKELY {4}go-arm64-split-sp-epilogue:/m);
		expect(r.stdout).not.toMatch(/0x-|position-independent|not on one of|Go 1\.26/);
	});

	it("carries the match in --json, and takes the Go version from the text", async () => {
		const r = await diagnose(
			"crashes/go1.24.4-arm64/deadlock.system.txt",
			"--binary",
			leafBin,
			"--json",
		);
		expect(r.code).toBe(0);
		const doc = JSON.parse(r.stdout);
		expect(doc.binary).toMatchObject({
			name: leafBin,
			matches: false,
			goVersion: { text: "1.24", binary: "1.26.10", agrees: false },
			goarch: { text: "arm64", binary: "arm64", agrees: true },
			frames: 76,
			loadBase: null,
			pie: false,
		});
		expect(doc.binary.differences[0]).toBe("binary is go1.26.10, crash is go1.24");
		expect(doc.environment.goVersion).toBe("1.24");
		expect(doc.environment.sources.goVersion).toMatch(/^GOROOT path .*\/usr\/lib\/go-1\.24\//);
		expect(JSON.stringify(doc.findings)).not.toContain(leafBin);
	});
});

describe("diagnose --binary with the binary that crashed", () => {
	it("uses it as before: the split-SP victim is confirmed, and --json says it matched", async () => {
		const r = await diagnose(nonLeafText, "--binary", nonLeafBin);
		expect(r.stdout).not.toContain("does not match");
		expect(r.stdout).toMatch(/^CONFIRMED go-arm64-split-sp-epilogue:/m);
		const doc = JSON.parse((await diagnose(nonLeafText, "--binary", nonLeafBin, "--json")).stdout);
		expect(doc.binary).toEqual({
			name: nonLeafBin,
			matches: true,
			differences: [],
			goVersion: {
				text: "1.24.4",
				textSource: 'line "splitsp: go1.24.4 linux/arm64 variant=non-leaf workers=8"',
				binary: "1.24.4",
				agrees: true,
			},
			goarch: {
				text: "arm64",
				textSource: "runtime file runtime/asm_arm64.s",
				binary: "arm64",
				agrees: true,
			},
			frames: 86,
			loadBase: "0x0",
			pie: false,
		});
		expect(doc.findings[0]).toMatchObject({
			id: "go-arm64-split-sp-epilogue",
			confidence: "confirmed",
		});
	});
});

describe("a PIE loaded at a random base", () => {
	let pie = "";
	beforeAll(async () => {
		pie = (
			await execFileAsync(`${root}scripts/run-piecrash.sh`, ["amd64"], { encoding: "utf8" })
		).stdout.trim();
	}, 900_000);

	it("matches its own crash, with the load base symbolize works out", async () => {
		const doc = JSON.parse((await diagnose(`${pie}.crash.txt`, "--binary", pie, "--json")).stdout);
		expect(doc.binary).toMatchObject({ matches: true, differences: [], pie: true });
		expect(doc.environment.goVersion).toBe("1.24.4");
		const sym = await runGocrash(["symbolize", pie, "--crash", `${pie}.crash.txt`], { cwd });
		const bias = /^load bias (0x[0-9a-f]+) /.exec(sym.stdout)?.[1];
		expect(bias).toBeDefined();
		expect(doc.binary.loadBase).toBe(bias);
		expect(Number(bias) % 0x1000).toBe(0);
		expect(Number(bias)).toBeGreaterThan(0);
	});

	it("does not match the next build, where main.main moved down one line", async () => {
		const dir = mkdtempSync(join(tmpdir(), "gocrash-nextbuild-"));
		onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
		const src = readFileSync(`${root}test/binaries/piecrash/main.go`, "utf8");
		const moved = src.replace(
			"func main() {",
			"// One line more in the next build.\nfunc main() {",
		);
		expect(moved).not.toBe(src);
		writeFileSync(join(dir, "main.go"), moved);
		copyFileSync(`${root}test/binaries/piecrash/go.mod`, join(dir, "go.mod"));
		const go = (
			await execFileAsync(`${root}scripts/go-toolchain.sh`, ["1.24"], { encoding: "utf8" })
		).stdout.trim();
		// As scripts/run-piecrash.sh builds it; -trimpath keeps the file names example.com/piecrash/….
		await execFileAsync(
			go,
			["build", "-trimpath", "-buildvcs=false", "-buildmode=pie", "-o", "next", "."],
			{
				cwd: dir,
				env: {
					...process.env,
					GOOS: "linux",
					GOARCH: "amd64",
					CGO_ENABLED: "0",
					GOTOOLCHAIN: "local",
					GOFLAGS: "-mod=mod",
					GOPROXY: "off",
					GOWORK: "off",
					GOCACHE: `${root}.cache/go-build`,
				},
			},
		);
		const doc = JSON.parse(
			(await diagnose(`${pie}.crash.txt`, "--binary", join(dir, "next"), "--json")).stdout,
		);
		expect(doc.binary.matches).toBe(false);
		expect(doc.binary.differences).toEqual([
			expect.stringMatching(
				/^\d+ of \d+ frames' file:line differ from the binary's \(main\.main(?:\.func1)?\+0x[0-9a-f]+: crash says example\.com\/piecrash\/main\.go:(\d+), binary example\.com\/piecrash\/main\.go:\d+\)$/,
			),
		]);
		const [, said, has] = /main\.go:(\d+), binary .*main\.go:(\d+)/.exec(
			doc.binary.differences[0],
		) as RegExpExecArray;
		expect(Number(has)).toBe(Number(said) + 1);
		expect(doc.environment.goVersion).toBeNull();
	});

	it("does not match a binary of another GOARCH and toolchain", async () => {
		const other = `${BINARY_FIXTURES}frames-go1.26-linux-arm64-pie.gz`;
		const r = await diagnose(`${pie}.crash.txt`, "--binary", other);
		expect(r.stdout.split("\n")[1]).toMatch(
			/ does not match this crash: binary is arm64, crash is amd64; \d+ of \d+ frames' functions are not in the binary; .*; it is left out of the evidence$/,
		);
		expect(r.stdout).not.toMatch(/0x-/);
	});
});
