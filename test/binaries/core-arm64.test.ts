import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
	CORE_VERSIONS,
	coresForEachVersion,
	expectPrintedGoroutines,
	expectTableEqualsDwarf,
	printedGoroutines,
	readCoreJson,
} from "./_core-json.js";

const binaries = coresForEachVersion("run-corecrash.sh", ["arm64"]);

describe.each(CORE_VERSIONS)("go%s linux/arm64 under qemu-aarch64", (v) => {
	test("QEMU's core of a GOTRACEBACK=crash abort: every goroutine equals the printed one", async () => {
		const bin = binaries[v] as string;
		const want = printedGoroutines(readFileSync(`${bin}.crash.txt`, "utf8"));
		const got = await readCoreJson(bin, `${bin}.crash.core`);
		expect(got.goVersion).toMatch(new RegExp(`^go${v.replace(".", "\\.")}`));
		expect(got.goarch).toBe("arm64");
		expect(got.layout).toBe("dwarf");
		// No NT_SIGINFO: the signal is the dumping thread's pr_cursig, without a code.
		expect(got.signal).toEqual({
			name: "SIGABRT",
			code: 0,
			addr: null,
			thread: got.threads[0]?.tid,
		});
		expectPrintedGoroutines(got, want, v);
	}, 60_000);
});

test.each(CORE_VERSIONS)(
	"go%s linux/arm64: the runtime layout table equals the binary's DWARF",
	(v) => {
		expectTableEqualsDwarf(binaries[v] as string, v);
	},
);
