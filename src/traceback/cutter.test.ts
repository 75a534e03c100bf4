import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { listCrashFixtures } from "../../test/_fixtures.js";
import { type CutReport, parseCrashes, ReportCutter } from "./index.js";

const fixtures = listCrashFixtures().filter((f) => f.meta.goVersion.startsWith("go1.24"));

const logLines = (n: number, tag: string) =>
	Array.from(
		{ length: n },
		(_, i) =>
			`2026-12-04T06:00:${String(i % 60).padStart(2, "0")}Z INFO ${tag} request ${i} served`,
	);

/** What the parser reads from a text: the crashes' messages and goroutine ids, and the races. */
function shape(text: string) {
	const result = parseCrashes(text);
	return {
		crashes: result.crashes.map((c) => ({
			message: c.message,
			goroutines: c.goroutines.map((g) => g.id),
		})),
		races: result.races.length,
	};
}

function cut(chunks: readonly string[], flush = true): CutReport[] {
	const reports: CutReport[] = [];
	const cutter = new ReportCutter((r) => reports.push(r));
	for (const chunk of chunks) cutter.write(chunk);
	if (flush) cutter.flush();
	return reports;
}

describe("ReportCutter", () => {
	test.each(fixtures.map((f) => [f.name, f] as const))(
		"%s between log lines: each report is cut out whole, and parses as in the stream",
		(_, fixture) => {
			const stream = [
				...logLines(100, "before"),
				fixture.text.trimEnd(),
				...logLines(100, "after"),
				"",
			].join("\n");
			const reports = cut([stream]);
			expect(reports.every((r) => !r.truncated)).toBe(true);
			const whole = shape(stream);
			const pieces = reports.map((r) => shape(r.text));
			expect({
				crashes: pieces.flatMap((p) => p.crashes),
				races: pieces.reduce((n, p) => n + p.races, 0),
			}).toEqual(whole);
			// Only the context before a report is sent with it, never the whole log.
			for (const r of reports) expect(r.text).not.toContain("before request 50 ");
		},
	);

	test("chunk boundaries anywhere give the same reports", () => {
		const stream = fixtures
			.slice(0, 12)
			.flatMap((f, i) => [...logLines(3, `gap${i}`), f.text.trimEnd()])
			.concat(logLines(3, "end"), "")
			.join("\n");
		const expected = cut([stream]);
		expect(expected.length).toBeGreaterThanOrEqual(12);
		fc.assert(
			fc.property(fc.array(fc.nat(stream.length), { maxLength: 40 }), (cuts) => {
				const at = [0, ...[...new Set(cuts)].sort((a, b) => a - b), stream.length];
				const chunks = at.slice(1).map((end, i) => stream.slice(at[i], end));
				expect(cut(chunks)).toEqual(expected);
			}),
			{ numRuns: 25 },
		);
	});

	test("a report is emitted as soon as the lines after it show it ended, not at the end", () => {
		const fixture = fixtures.find((f) => f.meta.scenario === "nil-map-write") ?? fixtures[0];
		if (fixture === undefined) throw new Error("no fixture");
		const reports: CutReport[] = [];
		const cutter = new ReportCutter((r) => reports.push(r));
		// Without the `exit status` line `go run` prints after it, which already ends it.
		cutter.write(`${fixture.text.trimEnd().replace(/\nexit status \d+$/, "")}\n`);
		expect(reports).toEqual([]);
		expect(cutter.open).toBe(true);
		// Log lines may be interleaved with a crash: a long run of them ends it.
		for (const line of logLines(60, "restarted")) cutter.write(`${line}\n`);
		expect(reports).toHaveLength(1);
		expect(reports[0]?.truncated).toBe(false);
		expect(reports[0]?.text).not.toContain("restarted");
		expect(cutter.open).toBe(false);
	});

	test("flush after a quiet period emits the open report, whole or truncated as it is", () => {
		const fixture = fixtures.find((f) => f.meta.scenario === "nil-map-write") ?? fixtures[0];
		if (fixture === undefined) throw new Error("no fixture");
		const reports: CutReport[] = [];
		const cutter = new ReportCutter((r) => reports.push(r));
		cutter.write(fixture.text.trimEnd().replace(/\nexit status \d+$/, ""));
		cutter.flush();
		expect(reports.map((r) => r.truncated)).toEqual([false]);
		expect(cutter.open).toBe(false);
		expect(cutter.held).toBe("");
	});

	test("flush in the middle of a goroutine's frames emits the report as truncated", () => {
		const fixture = fixtures.find((f) => f.meta.scenario === "nil-map-write") ?? fixtures[0];
		if (fixture === undefined) throw new Error("no fixture");
		const lines = fixture.text.split("\n");
		const cutAt = lines.findIndex((l) => l.startsWith("main.")) + 1;
		const reports: CutReport[] = [];
		const cutter = new ReportCutter((r) => reports.push(r));
		cutter.write(lines.slice(0, cutAt).join("\n"));
		cutter.flush();
		expect(reports.map((r) => r.truncated)).toEqual([true]);
	});

	test("held text written into a new cutter resumes the stream", () => {
		const stream = [
			...logLines(30, "a"),
			...fixtures.slice(0, 4).map((f) => f.text.trimEnd()),
			...logLines(5, "b"),
			"",
		].join("\n");
		const expected = cut([stream]);
		for (const at of [
			100,
			Math.floor(stream.length / 3),
			Math.floor(stream.length / 2) + 7,
			stream.length - 20,
		]) {
			const reports: CutReport[] = [];
			const first = new ReportCutter((r) => reports.push(r));
			first.write(stream.slice(0, at));
			const second = new ReportCutter((r) => reports.push(r));
			second.write(first.held + stream.slice(at));
			second.flush();
			expect(reports.map((r) => shape(r.text))).toEqual(expected.map((r) => shape(r.text)));
		}
	});

	test("an open report over the size limit is cut there, and memory stays bounded", () => {
		const dump = fixtures.find((f) => f.text.length > 2000);
		if (dump === undefined) throw new Error("no fixture");
		const reports: CutReport[] = [];
		const cutter = new ReportCutter((r) => reports.push(r), { maxChars: 1000 });
		cutter.write(dump.text);
		cutter.flush();
		expect(reports.length).toBeGreaterThanOrEqual(1);
		expect(reports[0]?.truncated).toBe(true);
		// The line that went over the limit is the last one taken.
		const longest = Math.max(...dump.text.split("\n").map((l) => l.length + 1));
		for (const r of reports) expect(r.text.length).toBeLessThanOrEqual(1000 + longest);
		expect(cutter.held.length).toBeLessThanOrEqual(1000);
	});

	test("a long log with no crash emits nothing and holds only the context", () => {
		const reports: CutReport[] = [];
		const cutter = new ReportCutter((r) => reports.push(r), { context: 5 });
		for (const line of logLines(10_000, "quiet")) cutter.write(`${line}\n`);
		expect(reports).toEqual([]);
		expect(cutter.held.split("\n").length).toBeLessThanOrEqual(12);
	});
});
