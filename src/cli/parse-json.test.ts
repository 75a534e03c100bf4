import { expect, test } from "vitest";
import { listCrashFixtures } from "../../test/_fixtures.js";
import { written } from "../../test/_output.js";
import { type Goroutine, newFrame, parseCrashes } from "../traceback/index.js";
import { writeGoroutine } from "./_parse-json.js";

// What writeGoroutine writes for each goroutine, one string per goroutine.
function goroutinesWritten(goroutines: readonly Goroutine[]): string[] {
	const text = written((out) => {
		for (const g of goroutines) {
			writeGoroutine(out, g);
			out.writeByte(0x0a);
		}
	});
	return text.split("\n").slice(0, -1);
}

test("writes every fixture's goroutines as JSON.stringify does, across flushes", () => {
	const goroutines = listCrashFixtures().flatMap((f) =>
		parseCrashes(f.text).crashes.flatMap((c) => c.goroutines),
	);
	expect(goroutines.length).toBeGreaterThan(10_000);
	// Ancestors, elisions and created-by lines are all in the fixtures.
	expect(goroutines.some((g) => g.ancestors.length > 0)).toBe(true);
	expect(goroutines.some((g) => g.elided.length > 0)).toBe(true);
	expect(goroutinesWritten(goroutines)).toEqual(goroutines.map((g) => JSON.stringify(g)));
});

test("escapes what JSON must and writes other text as it is, whatever its length", () => {
	const hostile = [
		'main.f("quoted")',
		"back\\slash",
		"tab\there\u0000nul\u001f\u007f",
		"naïve 函数 😀",
		"lone \ud800 surrogate \udc00",
		"x".repeat(70_000),
		`${"y".repeat(20_000)}"`,
		"",
	];
	const goroutines = hostile.map((s, i): Goroutine => {
		const frame = newFrame(`${s}.fn`, s);
		frame.file = s;
		frame.line = i === 0 ? -1 : i;
		frame.offset = i === 1 ? Number.NaN : 1.5;
		frame.fp = s;
		return {
			id: 2 ** 53 + i * 2,
			state: s,
			stateText: s,
			scan: i % 2 === 0,
			waitMinutes: i === 2 ? null : -i,
			lockedToThread: i % 3 === 0,
			gp: s,
			m: null,
			mp: s,
			frames: [frame, frame],
			elided: [{ index: 1, count: i === 3 ? null : i }],
			stackUnavailable: i === 4,
			createdBy: { frame, goroutine: i === 5 ? null : i },
			ancestors: [{ id: i, frames: [frame], createdBy: null }],
			line: i + 1,
		};
	});
	expect(goroutinesWritten(goroutines)).toEqual(goroutines.map((g) => JSON.stringify(g)));
});
