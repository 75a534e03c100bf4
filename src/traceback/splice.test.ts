import { describe, expect, test } from "vitest";
import { parseCrashes } from "./index.js";

// Another thread's line, of a shape seen often enough before the crash, cut into Go's lines.
function spliced(foreign: (n: number) => string): string {
	const before = Array.from({ length: 10 }, (_, i) => foreign(i));
	return [
		...before,
		"panic: boom",
		"",
		`goroutine 1${foreign(10)}`,
		" [running]:",
		`main.main()${foreign(11)}`,
		"",
		"\t/src/app/main.go:9 +0x1d",
		"exit status 2",
		"",
	].join("\n");
}

describe("lines cut by another thread's output are joined again", () => {
	test.each([
		["ending in a number", (n: number) => `c-logger: tick ${n}`],
		["ending in text", (n: number) => `processing batch ${n} (stdout)`],
		["with numbers inside", (n: number) => `logs.go:${n + 40}: starting: ${n} workers`],
	])("%s", (_, foreign) => {
		const crash = parseCrashes(spliced(foreign)).crashes[0];
		expect(crash?.goroutines.map((g) => [g.id, g.state])).toEqual([[1, "running"]]);
		expect(crash?.goroutines[0]?.frames.map((f) => [f.function, f.line])).toEqual([
			["main.main", 9],
		]);
	});
});

test("other output skipped inside text that is then dropped is not counted on the next crash", () => {
	const ticks = (from: number, n: number) =>
		Array.from({ length: n }, (_, i) => `c-logger: tick ${from + i}`);
	const text = [
		...ticks(0, 10),
		"runtime stack:",
		...ticks(10, 3),
		"panic: boom",
		"",
		"goroutine 1 [running]:",
		"main.main()",
		"\t/src/app/main.go:9 +0x1d",
		"exit status 2",
		"",
	].join("\n");
	const result = parseCrashes(text);
	expect(result.crashes.map((c) => c.message)).toEqual(["panic: boom"]);
	expect(result.issues).toEqual([]);
});
