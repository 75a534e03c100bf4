import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Io } from "./_io.js";
import { run } from "./main.js";

const fixtures = fileURLToPath(new URL("../../test/fixtures/", import.meta.url));

async function gocrash(
	argv: string[],
	stdin = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
	let stdout = "";
	let stderr = "";
	const sink = (add: (t: string) => void): Writable =>
		new Writable({
			write(chunk, _encoding, done) {
				add(String(chunk));
				done();
			},
		});
	const input = new PassThrough();
	input.end(stdin);
	const io: Io = {
		stdin: input,
		stdout: sink((t) => {
			stdout += t;
		}),
		stderr: sink((t) => {
			stderr += t;
		}),
		env: {},
		cwd: fixtures,
	};
	const code = await run(["diagnose", ...argv], io);
	return { code, stdout, stderr };
}

describe("gocrash diagnose", () => {
	it("confirms the split-SP bug with the binary, in the --json contract", async () => {
		const r = await gocrash([
			"diagnose/split-sp/go1.26.10-arm64-leaf.txt",
			"--binary",
			"diagnose/split-sp/splitsp-go1.26.10-linux-arm64-leaf.gz",
			"--json",
		]);
		expect(r.code).toBe(0);
		const doc = JSON.parse(r.stdout);
		expect(doc.environment).toMatchObject({
			goVersion: "1.26.10",
			goarch: "arm64",
			goos: "linux",
			kernel: null,
		});
		const [top] = doc.findings;
		expect(top).toMatchObject({
			id: "go-arm64-split-sp-epilogue",
			category: "compiler-bug",
			confidence: "confirmed",
			references: expect.arrayContaining(["golang/go#73259"]),
		});
		expect(Object.keys(top)).toEqual(
			expect.arrayContaining([
				"id",
				"title",
				"category",
				"confidence",
				"evidence",
				"fixedIn",
				"workarounds",
				"references",
			]),
		);
		expect(top.evidence.join("\n")).toMatch(
			/goroutine 22 stopped at main\.big_stack\+0x90 = 0xa8e50, exactly the second half of a split epilogue/,
		);
		expect(top.evidence.join("\n")).toMatch(/leaf: main\.big_stack/);
		expect(doc.binary).toMatchObject({
			name: "diagnose/split-sp/splitsp-go1.26.10-linux-arm64-leaf.gz",
			matches: true,
			differences: [],
			frames: 85,
			loadBase: "0x0",
		});
	});

	it("says what to run to confirm when the binary is missing", async () => {
		const r = await gocrash(["diagnose/split-sp/go1.24.4-arm64-non-leaf.txt"]);
		expect(r.stdout).toMatch(/^LIKELY +go-arm64-split-sp-epilogue: /m);
		expect(r.stdout).toMatch(/gocrash diagnose CRASH --binary BIN/);
		const doc = JSON.parse(
			(await gocrash(["diagnose/split-sp/go1.24.4-arm64-non-leaf.txt", "--json"])).stdout,
		);
		expect(doc.binary).toBeNull();
	});

	it("prints one line per finding, then evidence, then what to do", async () => {
		const r = await gocrash(["crashes/go1.24.4-amd64/concurrent-map-writes.all.txt"]);
		const lines = r.stdout.split("\n");
		expect(lines[0]).toBe(
			"crashes/go1.24.4-amd64/concurrent-map-writes.all.txt: 1 crash; Go 1.24, not arm64",
		);
		expect(lines[2]).toBe(
			"CONFIRMED concurrent-map-access: A map was used by several goroutines at once without synchronisation",
		);
		expect(lines[3]).toBe("  evidence:");
		expect(r.stdout).toMatch(
			/map access site: goroutine 8 \[running\] was in a map operation at main\.concurrentMapWrites\.func2 \(\/tmp\/crashgen\/fatal\.go:124\)/,
		);
		expect(r.stdout).toMatch(/candidate other side: goroutine 7 \[runnable\].*fatal\.go:123/);
		expect(r.stdout).toMatch(/ {2}what to do:/);
	});

	it("reads user rules, reports bad ones, and says so when nothing matches", async () => {
		const dir = mkdtempSync(join(tmpdir(), "gocrash-rules-"));
		onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
		writeFileSync(
			join(dir, "mine.json"),
			JSON.stringify({
				rules: [
					{
						id: "config-missing",
						title: "Configuration missing",
						category: "environment",
						match: { line: "^panic: config: missing" },
						confidence: "confirmed",
						explanation: "The deployment lacks a configuration key.",
						examples: {
							match: [{ text: "panic: config: missing key" }],
							noMatch: [{ text: "panic: other" }],
						},
					},
					{ id: "broken" },
				],
			}),
		);
		const crash =
			'panic: config: missing key "addr"\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:9 +0x1d\n';
		const r = await gocrash(["-", "--rules", dir, "--json"], crash);
		expect(r.stderr).toMatch(/mine\.json: broken: broken\.examples must be/);
		expect(JSON.parse(r.stdout).findings.map((f: { id: string }) => f.id)).toEqual([
			"config-missing",
			"explicit-panic",
		]);
		const none = await gocrash(["-"], "just a log line\n");
		expect(none.stdout).toMatch(/No known cause matched/);
	});
});
