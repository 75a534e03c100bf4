import { expect, test } from "vitest";
import { PrefixShape } from "./_shape.js";

// Prefixes as tools print them (the text before a report on its first line), and lines of the
// same stream: what each line is after the learned prefix, or null when it does not carry it.
const cases: [string, string, [string, string | null][]][] = [
	[
		"stern",
		"billing-api-7d9f8b6c5-xk2pq api ",
		[
			["billing-api-7d9f8b6c5-xk2pq api goroutine 1 [running]:", "goroutine 1 [running]:"],
			["billing-api-7d9f8b6c5-xk2pq api \t/app/main.go:5 +0x1d", "\t/app/main.go:5 +0x1d"],
			// Indentation after the prefix is kept: only the prefix's own space is taken.
			["billing-api-7d9f8b6c5-xk2pq api   main.main()", "  main.main()"],
			// A pipeline that trims trailing spaces leaves the prefix of an empty line without its own.
			["billing-api-7d9f8b6c5-xk2pq api", ""],
			["billing-api-6c4b9d7f8-abcde api goroutine 1 [running]:", null],
		],
	],
	[
		"TeamCity, with tabs",
		"[12:57:16] :\t\t [Run Benchmarks] ",
		[
			["[12:57:17] :\t\t [Run Benchmarks] PC=0x45d4f1 m=0 sigcode=0", "PC=0x45d4f1 m=0 sigcode=0"],
			["[12:57:17] : [Run Benchmarks] PC=0x45d4f1 m=0 sigcode=0", null],
		],
	],
	[
		"a width that varies: counters and padding",
		"[   42.7s] worker-7: ",
		[
			["[  123.100s] worker-12: goroutine 1 [running]:", "goroutine 1 [running]:"],
			["[ 3.0s] worker-1: main.main()", "main.main()"],
			// Padding used up by a wider number.
			["[12345.100s] worker-12: main.main()", "main.main()"],
			["[ 3.0s] worker: main.main()", null],
		],
	],
	[
		"docker compose on a terminal",
		"\u001b[36;1mbilling  |\u001b[0m ",
		[
			["\u001b[33;1mbilling  |\u001b[0m panic: boom", "panic: boom"],
			["billing  | panic: boom", null],
		],
	],
];

test.each(cases)("%s", (_, head, lines) => {
	const shape = PrefixShape.of(head);
	expect(shape).not.toBeNull();
	for (const [line, rest] of lines) expect(shape?.strip(line), line).toBe(rest);
});

test("what cannot be a prefix: nothing, spaces and digits only, too long", () => {
	for (const head of ["", "   ", "12 ", " 3 4 ", "x".repeat(201)])
		expect(PrefixShape.of(head), JSON.stringify(head)).toBeNull();
});
