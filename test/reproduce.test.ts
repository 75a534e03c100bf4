import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { CLI } from "./_serve.js";

// The commands whose point is to run something real: the split-SP reproducer under qemu-aarch64
// (Go 1.26 still splits leaf epilogues, so it crashes within seconds) and the AVX self-test.
const run = async (args: readonly string[]) => {
	try {
		const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args]);
		return { code: 0, out: stdout + stderr };
	} catch (error) {
		const e = error as { code?: number; stdout?: string; stderr?: string };
		return { code: e.code ?? -1, out: (e.stdout ?? "") + (e.stderr ?? "") };
	}
};

describe("commands that run a program", () => {
	test("reproduce split-sp crashes the leaf reproducer built with Go 1.26 and confirms the victim on a split window", async () => {
		const { code, out } = await run(["reproduce", "split-sp", "--go", "1.26", "--duration", "240"]);
		expect(out).toMatch(/^built leaf reproducer with go1\.26\.\d+; running 1 copy/m);
		expect(out).toMatch(/^copy 1: crash after \d+s: /m);
		expect(out).toMatch(/CONFIRMED go-arm64-split-sp-epilogue/);
		expect(out).toMatch(
			/exactly the second half of a split epilogue: 0x[0-9a-f]+ ADD \$0x10, RSP, RSP; 0x[0-9a-f]+ ADD \$0x10000, RSP, RSP \(frame 0x10010, leaf function\)/,
		);
		expect(code).toBe(3);
	}, 400_000);

	test("host --self-test runs the AVX signal test for the seconds asked", async () => {
		const { code, out } = await run(["host", "--self-test", "--seconds", "2"]);
		expect(out).toMatch(
			/^self-test: passed: no AVX register corruption \(\d+ signals delivered on fresh signal stacks over 2s/m,
		);
		expect(code).toBe(0);
	}, 60_000);
});
