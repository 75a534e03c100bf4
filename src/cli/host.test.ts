import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { assessKernel, gccMajorOf } from "./_host-kernel.js";
import type { Io } from "./_io.js";
import { run } from "./main.js";

describe("assessKernel", () => {
	const gcc9 =
		"Linux version 5.3.10-arch1-1 (builder@arch) (gcc version 9.2.0 (GCC)) #1 SMP PREEMPT";
	it.each([
		["5.3.10-arch1-1", gcc9, "x64", "affected-by-version"],
		["5.4.1", "Linux version 5.4.1 (gcc version 9.2.1 20191008)", "x64", "affected-by-version"],
		["5.4.2", "Linux version 5.4.2 (gcc version 9.2.1 20191008)", "x64", "not-affected"],
		["5.3.14", "Linux version 5.3.14 (gcc version 8.3.0 (Debian 8.3.0-6))", "x64", "not-affected"],
		["5.3.10", gcc9, "arm64", "not-applicable"],
		[
			"6.18.44",
			"Linux version 6.18.44 (gcc (GCC) 15.3.0, GNU ld (GNU Binutils) 2.46)",
			"x64",
			"not-affected",
		],
	])("kernel %s is %s", (release, proc, arch, status) => {
		expect(assessKernel(release, proc, arch).status).toBe(status);
	});

	it("reads the GCC version in both /proc/version styles", () => {
		expect(gccMajorOf(gcc9)).toBe(9);
		expect(gccMajorOf("Linux version 6.1.0 (gcc (Debian 12.2.0-14) 12.2.0, GNU ld)")).toBe(12);
		expect(gccMajorOf("Linux version 6.1.0 (clang version 17.0.6)")).toBeNull();
	});

	it("warns that a distribution kernel in the range may carry the fix", () => {
		expect(assessKernel("5.4.0-42-generic", gcc9, "x64").reasons.join(" ")).toMatch(
			/backported fix/,
		);
	});
});

describe("gocrash host", () => {
	it("reports the kernel and limits as JSON", async () => {
		let stdout = "";
		const io: Io = {
			stdin: new PassThrough(),
			stdout: new Writable({
				write(chunk, _e, done) {
					stdout += String(chunk);
					done();
				},
			}),
			stderr: new Writable({ write: (_c, _e, done) => done() }),
			env: {},
			cwd: process.cwd(),
		};
		expect(await run(["host", "--json"], io)).toBe(0);
		const doc = JSON.parse(stdout);
		expect(doc.avxSignalBug.status).toMatch(/^(affected-by-version|not-affected|not-applicable)$/);
		expect(doc.selfTest).toBeNull();
		expect(typeof doc.kernel).toBe("string");
	});
});
