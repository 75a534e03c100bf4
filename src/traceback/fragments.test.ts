import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { listCrashFixtures, projectResult } from "../../test/_fixtures.js";
import { type Frame, type Goroutine, parseCrashes } from "./index.js";

// Pieces of the real split-SP crashes, cut by scripts/cut-fragments.mjs (each .meta.json says
// which fixture and lines): a stanza alone, lines lost, header lines moved after the stack.
const root = new URL("../../", import.meta.url);
const dir = new URL("test/fixtures/diagnose/fragments/", root);
const fragments = readdirSync(dir)
	.filter((f) => f.endsWith(".meta.json"))
	.sort()
	.map((f) => {
		const meta = JSON.parse(readFileSync(new URL(f, dir), "utf8"));
		const name = f.replace(/\.meta\.json$/, "");
		return {
			name,
			meta: meta as { from: string; lines: string[] },
			text: readFileSync(new URL(`${name}.txt`, dir), "utf8"),
		};
	});

const key = (f: Frame): string => `${f.function} ${f.file}:${f.line} fp=${f.fp} sp=${f.sp}`;

/** Whether `part` is `whole` with some elements left out, in the same order. */
function isSubsequence(part: readonly string[], whole: readonly string[]): boolean {
	let i = 0;
	for (const x of whole) if (x === part[i]) i++;
	return i === part.length;
}

describe("crash-text fragments cut from real crashes", () => {
	test("are what scripts/cut-fragments.mjs cuts", () => {
		const script = fileURLToPath(new URL("scripts/cut-fragments.mjs", root));
		expect(() =>
			execFileSync(process.execPath, [script, "--check"], { stdio: "pipe" }),
		).not.toThrow();
		expect(fragments.length).toBeGreaterThanOrEqual(5);
	});

	test.each(fragments.map((f) => [f.name, f] as const))("%s", async (_, fragment) => {
		const result = parseCrashes(fragment.text);
		await expect(`${JSON.stringify(projectResult(result), null, 1)}\n`).toMatchFileSnapshot(
			fileURLToPath(new URL(`${fragment.name}.golden.json`, dir)),
		);
		// Every frame the fragment gives a goroutine is one that goroutine has in the whole crash,
		// in the same order: no line is given to a goroutine or a function it does not belong to.
		const whole = parseCrashes(readFileSync(new URL(fragment.meta.from, root), "utf8"));
		const source = new Map<number | null, Goroutine>(
			whole.crashes.flatMap((c) => c.goroutines.map((g) => [g.id, g] as const)),
		);
		const runtimeStack = whole.crashes.flatMap((c) => c.runtimeStack).map(key);
		for (const crash of result.crashes) {
			expect(isSubsequence(crash.runtimeStack.map(key), runtimeStack)).toBe(true);
			for (const g of crash.goroutines) {
				const original = source.get(g.id);
				expect(original?.stateText, `goroutine ${g.id}`).toBe(g.stateText);
				expect(
					isSubsequence(g.frames.map(key), original?.frames.map(key) ?? []),
					`goroutine ${g.id}`,
				).toBe(true);
			}
		}
	});

	test("a file line whose function line was lost is left unplaced, not given to another frame", () => {
		const fragment = fragments.find((f) => f.name === "victim-function-line-lost");
		const result = parseCrashes(fragment?.text ?? "");
		const g = result.crashes[0]?.goroutines[0];
		expect(g?.frames.map((f) => f.function)).toEqual([
			"runtime.asyncPreempt2",
			"runtime.asyncPreempt",
			"runtime.goexit",
		]);
		expect(result.issues).toEqual([
			expect.objectContaining({
				code: "unplaced-line",
				line: 6,
				message: expect.stringContaining("nonleaf.go:19 +0x84 fp=0x40000fdfe0"),
			}),
		]);
	});

	test("frames after a goroutine's `created by` line are not its own, even with no blank line and header between", () => {
		const fragment = fragments.find((f) => f.name === "victim-next-header-lost");
		const result = parseCrashes(fragment?.text ?? "");
		expect(result.crashes.flatMap((c) => c.goroutines.map((g) => g.id))).toEqual([22]);
		expect(result.crashes[0]?.goroutines[0]?.frames.map((f) => f.function)).toEqual([
			"runtime.asyncPreempt2",
			"runtime.asyncPreempt",
			"main.big_stack",
			"runtime.goexit",
		]);
	});

	test("a stretch copied out of a dump starts at its first goroutine header", () => {
		const fragment = fragments.find((f) => f.name === "victims-from-the-middle");
		const result = parseCrashes(fragment?.text ?? "");
		// The fragment opens with the last lines of goroutine 3: a file line without its function
		// line, runtime.goexit and its `created by` line.
		expect(fragment?.text.split("\n")[0]).toMatch(/^\truntime\/mgc\.go:1339 /);
		// Those frames, whose header is not in the stretch, belong to no goroutine it names.
		expect(result.issues).toEqual([
			expect.objectContaining({ code: "stack-without-header", line: 2 }),
		]);
		expect(result.crashes).toHaveLength(1);
		expect(result.crashes[0]?.goroutines.map((g) => g.id)).toEqual([22, 23]);
		expect(result.crashes[0]?.goroutines[0]?.createdBy?.frame.function).toBe("main.main");
	});

	test("a stack pasted without its goroutine header is no crash, but an issue says where it is", () => {
		const whole = readFileSync(
			new URL("test/fixtures/diagnose/split-sp/go1.24.4-arm64-non-leaf.txt", root),
			"utf8",
		);
		// Goroutine 22's frames (lines 133-142) without its header (132).
		const stack = whole.split("\n").slice(132, 142).join("\n");
		const result = parseCrashes(`INFO before\n${stack}\nINFO after\n`);
		expect(result.crashes).toEqual([]);
		expect(result.issues).toEqual([
			{
				code: "stack-without-header",
				line: 2,
				message:
					"lines 2-11: a stack of 5 frames outside any crash (the goroutine header line before it, 'goroutine N [state]:', is missing)",
			},
		]);
		// Two such stacks, Go's one blank line between them: two issues, each its own stack.
		const two = parseCrashes(`${stack}\n\n${stack}\n`).issues;
		expect(two.map((i) => [i.line, i.message.split(":")[0]])).toEqual([
			[1, "lines 1-10"],
			[12, "lines 12-21"],
		]);
		// A logger's stack trace has no +0x offsets; a reversed stanza is a report of its own.
		const logged = "main.handler()\n\t/app/main.go:20\nmain.main()\n\t/app/main.go:9\n";
		expect(parseCrashes(logged).issues).toEqual([]);
		const backwards = stack.split("\n").reverse().join("\n");
		expect(
			parseCrashes(`${backwards}\ngoroutine 22 [running]:\n`).issues.map((i) => i.code),
		).toEqual(["reversed-lines"]);
	});

	test("frames after a race report's line, its start cut off, are told of as a race report's", () => {
		const race = listCrashFixtures().find((f) => f.name === "go1.26.10-amd64/race-heap");
		const lines = race?.text.split("\n") ?? [];
		// From its `Goroutine N (running) created at:` line on.
		const from = lines.findIndex((l) => /^Goroutine \d+ \(running\) created at:$/.test(l));
		expect(from).toBeGreaterThan(0);
		const result = parseCrashes(lines.slice(from, from + 5).join("\n"));
		expect(result.races).toEqual([]);
		expect(result.issues.map((i) => [i.code, i.line, i.message.split(" (")[1]])).toEqual([
			[
				"stack-without-header",
				2,
				"line 1 above it is a race report's, whose earlier lines, from 'WARNING: DATA RACE' on, are missing)",
			],
		]);
	});
});
