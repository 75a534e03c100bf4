import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { listCrashFixtures, projectResult } from "../../test/_fixtures.js";
import { CrashScanner, parseCrashes, scanCrashes } from "./index.js";

const fixtures = listCrashFixtures();
const texts = fixtures.map((f) => f.text);
const allLines = texts.flatMap((t) => t.split("\n"));
const anyLine = fc.nat(allLines.length - 1).map((i) => allLines[i] ?? "");

describe("streaming", () => {
	test("any chunk boundaries give the same result as one piece", () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...texts),
				fc.array(fc.nat(), { maxLength: 40 }),
				(text, cuts) => {
					const scanner = new CrashScanner();
					const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
					let from = 0;
					for (const point of points) {
						scanner.write(text.slice(from, point));
						from = point;
					}
					scanner.write(text.slice(from));
					expect(scanner.end()).toEqual(parseCrashes(text));
				},
			),
			{ numRuns: 300 },
		);
	});

	test("chunk boundaries do not matter where a prefix is learned or a report starts after other text", () => {
		// Every line prefixed as stern does (learned from the report's lines, _shape.ts); or the
		// first line after a shell prompt.
		const shaped = texts.flatMap((text) => [
			text.replace(/^/gm, "billing-7d9f8b6c5-xk2pq api "),
			`user@host:~/svc$ ${text}`,
		]);
		fc.assert(
			fc.property(
				fc.constantFrom(...shaped),
				fc.array(fc.nat(), { maxLength: 40 }),
				(text, cuts) => {
					const scanner = new CrashScanner();
					const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
					let from = 0;
					for (const point of points) {
						scanner.write(text.slice(from, point));
						from = point;
					}
					scanner.write(text.slice(from));
					expect(scanner.end()).toEqual(parseCrashes(text));
				},
			),
			{ numRuns: 200 },
		);
	});

	test("bytes cut anywhere, even inside a UTF-8 character, decode as the whole text does", async () => {
		const values = ["naïve café ☕ 😀", "ASCII only", "\u00e9\u4e16\u754c"];
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom(...texts),
				fc.constantFrom(...values),
				fc.array(fc.nat(), { maxLength: 40 }),
				async (text, value, cuts) => {
					const whole = `panic: ${value}\n\n${text}\npanic: ${value} [recovered]\n`;
					const bytes = new TextEncoder().encode(whole);
					const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
						(a, b) => a - b,
					);
					const chunks = [...points, bytes.length].map((end, i) =>
						bytes.subarray(points[i - 1] ?? 0, end),
					);
					const result = await scanCrashes(
						(async function* () {
							yield* chunks;
						})(),
					);
					expect(result).toEqual(parseCrashes(whole));
				},
			),
			{ numRuns: 200 },
		);
	});

	test("a UTF-8 character cut short before ASCII text decodes as one replacement character", async () => {
		const bytes = new TextEncoder().encode("panic: caf\u00e9\n");
		const cut = [bytes.subarray(0, 11), new TextEncoder().encode("\ngoroutine 1 [running]:\n")];
		const result = await scanCrashes(
			(async function* () {
				yield* cut;
			})(),
		);
		expect(result.crashes[0]?.message).toBe("panic: caf\ufffd");
	});

	test("what is handed over while streaming is what is kept, in the same order", () => {
		for (const text of texts) {
			const goroutines: number[] = [];
			const crashes: number[] = [];
			const races: number[] = [];
			const scanner = new CrashScanner(
				{
					goroutine: (g) => goroutines.push(g.id ?? -1),
					crash: (c) => crashes.push(c.goroutineCount),
					race: (r) => races.push(r.startLine),
				},
				{ keep: false },
			);
			scanner.write(text);
			const flat = scanner.end();
			expect(flat.crashes).toEqual([]);
			expect(flat.races).toEqual([]);
			const kept = parseCrashes(text);
			expect(goroutines).toEqual(kept.crashes.flatMap((c) => c.goroutines.map((g) => g.id)));
			expect(crashes).toEqual(kept.crashes.map((c) => c.goroutines.length));
			expect(races).toEqual(kept.races.map((r) => r.startLine));
		}
	});
});

describe("sync points", () => {
	test("after a sync point a new scanner reads the rest as the first one does, prefixes too", () => {
		const plain = texts.slice(0, 60).join("");
		for (const text of [plain, plain.replace(/^/gm, "billing-7d9f8b6c5-xk2pq api ")]) {
			const syncs: number[] = [];
			const whole = new CrashScanner({ sync: (lines) => syncs.push(lines) });
			whole.write(text);
			const result = whole.end();
			expect(syncs.length).toBeGreaterThan(10);
			const lines = text.split("\n");
			for (const at of syncs.filter((_, i) => i % Math.ceil(syncs.length / 8) === 0)) {
				const rest = parseCrashes(lines.slice(at).join("\n"));
				const after = { ...result, crashes: result.crashes.filter((c) => c.startLine > at) };
				after.races = result.races.filter((r) => r.startLine > at);
				expect(projectResult(rest)).toEqual(projectResult(after));
			}
		}
	});
});

describe("sync points and issues", () => {
	test("a new scanner started at a sync point tells of the same issues after it", () => {
		// A race report's line outside any report, then frames: the issue names that line.
		const text = [
			"hello",
			"Previous write at 0x00c0000a4010 by goroutine 8:",
			"  main.f()",
			"      /app/main.go:9 +0x44",
			"  main.main()",
			"      /app/main.go:11 +0x7a",
			"",
			"main.g()",
			"\t/app/g.go:3 +0x1",
			"main.main()",
			"\t/app/main.go:12 +0x2",
			"",
		].join("\n");
		const syncs: number[] = [];
		const whole = new CrashScanner({ sync: (lines) => syncs.push(lines) });
		whole.write(text);
		const issues = whole.end().issues;
		expect(issues.map((i) => i.line)).toEqual([3, 8]);
		const lines = text.split("\n");
		for (const at of syncs) {
			const rest = new CrashScanner({}, { firstLine: at });
			rest.write(lines.slice(at).join("\n"));
			expect(rest.end().issues).toEqual(issues.filter((i) => i.line > at));
		}
	});
});

describe("many crashes in one input", () => {
	test("all fixtures in one stream parse as each does alone", () => {
		const alone = fixtures.map(
			(f) => projectResult(parseCrashes(f.text)) as { crashes: unknown[]; races: unknown[] },
		);
		const together = projectResult(parseCrashes(texts.join(""))) as {
			crashes: unknown[];
			races: unknown[];
		};
		expect(together.crashes).toEqual(alone.flatMap((r) => r.crashes));
		expect(together.races).toEqual(alone.flatMap((r) => r.races));
	});

	test("lines after a crash has ended do not change it", () => {
		const crash = [
			"SIGSEGV: segmentation violation",
			"PC=0x4011 m=0 sigcode=1",
			"",
			"goroutine 1 [running]:",
			"main.main()",
			"\t/x/main.go:5 +0x1d",
			"exit status 2",
		].join("\n");
		const after = "PC=0xdead m=5 sigcode=2\nsignal arrived during cgo execution\nrax    0x1\n";
		const alone = parseCrashes(`${crash}\n`).crashes;
		expect(alone[0]?.signal).toMatchObject({ pc: "0x4011", m: 0, duringCgo: false });
		expect(parseCrashes(`${crash}\n${after}`).crashes).toEqual(alone);
	});
});

describe("hostile input", () => {
	test("random text never throws and keeps its invariants", () => {
		fc.assert(
			fc.property(fc.string({ unit: "binary", maxLength: 2000 }), (text) => {
				checkInvariants(text);
			}),
			{ numRuns: 500 },
		);
	});

	test("shuffled, dropped and duplicated lines of real crashes never throw", () => {
		fc.assert(
			fc.property(fc.array(anyLine, { maxLength: 300 }), (lines) => {
				checkInvariants(lines.join("\n"));
			}),
			{ numRuns: 500 },
		);
	});

	test("byte-level mutations of real crashes never throw", () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...texts),
				fc.array(fc.tuple(fc.nat(), fc.string({ unit: "binary", maxLength: 4 })), {
					maxLength: 30,
				}),
				(text, edits) => {
					let mutated = text;
					for (const [at, insert] of edits) {
						const i = at % (mutated.length + 1);
						mutated = mutated.slice(0, i) + insert + mutated.slice(i + insert.length);
					}
					checkInvariants(mutated);
				},
			),
			{ numRuns: 300 },
		);
	});

	test("every cut of a crash is reported as truncated or parses as a shorter crash", () => {
		for (const fixture of fixtures.filter((_, i) => i % 9 === 0)) {
			const whole = parseCrashes(fixture.text);
			const lines = fixture.text.split("\n");
			for (const cut of [0.3, 0.6, 0.9].map((f) => Math.floor(lines.length * f))) {
				const part = parseCrashes(lines.slice(0, cut).join("\n"));
				expect(part.crashes.length).toBeLessThanOrEqual(whole.crashes.length);
				const last = part.crashes.at(-1);
				if (
					last !== undefined &&
					last.exitStatus === null &&
					whole.crashes.at(-1)?.exitStatus !== null
				) {
					const complete = whole.crashes.find((c) => c.startLine === last.startLine);
					if (complete !== undefined && complete.goroutines.length > last.goroutines.length) {
						expect(last.truncated || last.goroutines.length > 0).toBe(true);
					}
				}
			}
		}
	});
});

describe("linear time", () => {
	// Inputs built to make a careless pattern backtrack or a careless loop rescan: the time must
	// grow with the input, not with its square.
	const hostile: Record<string, (n: number) => string> = {
		parentheses: (n) => `main.f${"(".repeat(n)})\n`,
		colons: (n) => `/x.go${":1".repeat(n)} +0x\n`,
		"signal brackets": (n) => `[signal SIGSEGV: ${"code=".repeat(n)}]\n`,
		"goroutine header fields": (n) => `goroutine 1${" a=b".repeat(n)} [x\n`,
		"long prefixes": (n) => `${"2024-05-01T10:00:00".repeat(n)}\n`,
		"frames without files": (n) => `goroutine 1 [running]:\n${"main.f()\n".repeat(n)}`,
		"goroutines without frames": (n) => "goroutine 1 [running]:\n".repeat(n),
		"panic chains": (n) => "panic: x [recovered]\n".repeat(n),
		"reports mentioned after other text": (n) => "log: fatal error: x\n".repeat(n),
		"mentions with a prefix": (n) => "pod-1 c panic: x\npod-1 c \npod-1 c more\n".repeat(n),
		"stack words": (n) =>
			`stack: frame={sp:0x1, fp:0x2}\n${"0x00c000047e58:  0x0000000000000000 <main.f+0x1> \n".repeat(n)}`,
	};
	test.each(Object.entries(hostile))("%s", (_, make) => {
		// 16 times the input: linear work takes about 16 times as long, quadratic 256 times.
		const small = make(2_000);
		const large = make(32_000);
		// CPU time, the best of several runs, so that a busy machine or the JIT warming up does
		// not count; goroutines are not kept, so that the heap does not grow with the input.
		const time = (text: string) => {
			let best = Number.POSITIVE_INFINITY;
			for (let i = 0; i < 5; i++) {
				const start = process.cpuUsage();
				parseCrashes(text, { keep: false });
				const used = process.cpuUsage(start);
				best = Math.min(best, used.user + used.system);
			}
			return best;
		};
		time(small);
		const ratio = time(large) / Math.max(time(small), 1);
		expect(ratio).toBeLessThan(64);
	});
});

function checkInvariants(text: string): void {
	const result = parseCrashes(text);
	expect(result.lines).toBe(
		text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0),
	);
	for (const crash of result.crashes) {
		expect(crash.goroutineCount).toBe(crash.goroutines.length);
		expect(crash.startLine).toBeLessThanOrEqual(crash.endLine);
	}
	for (const issue of result.issues) expect(issue.line).toBeGreaterThanOrEqual(1);
}
