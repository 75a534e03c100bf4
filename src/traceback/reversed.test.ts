import { describe, expect, test } from "vitest";
import { listCrashFixtures, projectResult } from "../../test/_fixtures.js";
import { CrashScanner, parseCrashes } from "./index.js";

// Crash text pasted from a log viewer that shows the newest line first: every line reversed.
const reversed = (text: string): string => `${text.trimEnd().split("\n").reverse().join("\n")}\n`;

describe("a report whose lines are in reverse order", () => {
	// Texts whose reports have frames (which say that the lines are reversed) and whose lines no
	// other thread cut (those pieces are joined in the order they were printed).
	const framed = listCrashFixtures().filter((f) => {
		const forward = parseCrashes(f.text);
		return (
			f.meta.expect?.interleavedWith === undefined &&
			(forward.races.length > 0 ||
				forward.crashes.some((c) => c.goroutines.length + c.runtimeStack.length > 0))
		);
	});
	// The crashes and race reports read, in any order: reports pasted newest first come last first.
	const reports = (text: string): string[][] => {
		const { crashes, races } = projectResult(parseCrashes(text)) as Record<string, unknown[]>;
		return [crashes ?? [], races ?? []].map((list) => list.map((r) => JSON.stringify(r)).sort());
	};
	const single = framed.filter((f) => {
		const forward = parseCrashes(f.text);
		return forward.crashes.length + forward.races.length === 1;
	});

	test("every fixture, reversed, reads as the same crashes and race reports as in order", () => {
		expect(framed.length).toBeGreaterThan(900);
		const differ = framed.filter((f) => {
			const back = reversed(f.text);
			const said = parseCrashes(back).issues.some((i) => i.code === "reversed-lines");
			return !said || JSON.stringify(reports(back)) !== JSON.stringify(reports(f.text));
		});
		expect(differ.map((f) => f.name)).toEqual([]);
	});

	test("no fixture in order is taken for a reversed one", () => {
		const taken = listCrashFixtures().filter((f) =>
			parseCrashes(f.text).issues.some((i) => i.code === "reversed-lines"),
		);
		expect(taken.map((f) => f.name)).toEqual([]);
	});

	test("is placed on its own lines, between other output, with an issue that says so", () => {
		const fixture = single.find((f) => f.text.includes("panic: ") && f.text.length < 3000);
		const text = fixture?.text.trimEnd() ?? "";
		const lines = text.split("\n").length;
		const log = "INFO service started\nINFO ready";
		const result = parseCrashes(`${log}\n${reversed(text)}${log}\n${text}\n`);
		expect(result.crashes).toHaveLength(2);
		const [back, forward] = result.crashes.map((c) => projectResult({ ...result, crashes: [c] }));
		expect(JSON.stringify(back)).toBe(JSON.stringify(forward));
		expect(back).toMatchObject({ crashes: [{ kind: "panic" }] });
		expect(result.crashes[0]).toMatchObject({ startLine: 3, endLine: lines + 2 });
		expect(result.issues).toContainEqual({
			code: "reversed-lines",
			line: 3,
			message: `lines 3-${lines + 2} are in reverse order (newest first, as log viewers show them): read from the last up`,
		});
	});

	test("keeps lines of other output between its stanzas, until a reason, as it would in order", () => {
		const text = reversed(
			"fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan receive]:\nmain.main()\n\t/src/app/main.go:9 +0x1d\nexit status 2",
		);
		const noisy = text.replace("main.main()", "main.main()\nINFO tick");
		const result = parseCrashes(noisy);
		expect(result.crashes[0]?.goroutines[0]?.frames.map((f) => f.function)).toEqual(["main.main"]);
		expect(result.crashes[0]?.fatal).toBe("all goroutines are asleep - deadlock!");
	});

	test("holds nothing back for long in a log without reports", () => {
		const scanner = new CrashScanner({ sync: () => {} });
		scanner.write(
			`${"\t/src/app/main.go:9 +0x1d\nmain.main()\n".repeat(3)}${"INFO tick\n".repeat(41)}`,
		);
		expect(scanner.openFrom).toBeNull();
		scanner.write("\t/src/app/main.go:9 +0x1d\nmain.main()\n");
		expect(scanner.openFrom).toBe(48);
	});

	test("log lines that end in host:port and name a function are no stack", () => {
		const text = [
			"proxy at http://10.0.0.1:3128",
			"cache.Warm()",
			"goroutine 7 [running]:",
			"main.handler()",
			"\t/app/main.go:20 +0x45",
			"panic: real crash",
			"",
			"goroutine 1 [running]:",
			"main.main()",
			"\t/app/main.go:30 +0x1",
			"exit status 2",
		].join("\n");
		const result = parseCrashes(text);
		expect(result.issues.filter((i) => i.code === "reversed-lines")).toEqual([]);
		expect(result.crashes.map((c) => [c.kind, c.goroutines.map((g) => g.id)])).toEqual([
			["dump", [7]],
			["panic", [1]],
		]);
	});

	test("a report in order right after a reversed one is read in order", () => {
		const fixture = single.find((f) => f.text.includes("panic: ") && f.text.length < 3000);
		const text = fixture?.text.trimEnd() ?? "";
		const result = parseCrashes(`${reversed(text)}\n${text}\n`);
		expect(result.crashes).toHaveLength(2);
		expect(result.issues.filter((i) => i.code === "reversed-lines")).toHaveLength(1);
		const [back, forward] = result.crashes.map((c) => projectResult({ ...result, crashes: [c] }));
		expect(JSON.stringify(back)).toBe(JSON.stringify(forward));
	});

	test("a reversed race report has its lines in order", () => {
		const fixture = single.find((f) => parseCrashes(f.text).races.length === 1);
		const text = fixture?.text.trimEnd() ?? "";
		const lines = text.split("\n").length;
		const forward = parseCrashes(text).races[0];
		const back = parseCrashes(reversed(text)).races[0];
		expect(back?.startLine).toBe(lines + 1 - (forward?.endLine ?? 0));
		expect(back?.endLine).toBe(lines + 1 - (forward?.startLine ?? 0));
		expect(back?.truncated).toBe(false);
	});

	test("holds no more than a few lines of other output in a row, however long they are", () => {
		const scanner = new CrashScanner();
		scanner.write("\t/src/app/main.go:9 +0x1d\nmain.main()\ngoroutine 1 [running]:\n");
		expect(scanner.openFrom).toBe(1);
		scanner.write(`${"x".repeat(4096)}\n`.repeat(41));
		// The held lines were read again, as a report of their own: nothing is held back any more.
		expect(scanner.openFrom).toBeNull();
		const result = scanner.end();
		expect(result.crashes[0]?.goroutines[0]?.frames.map((f) => f.function)).toEqual(["main.main"]);
	});

	test("a line of other output before the report's sign is not read twice", () => {
		const text = [
			"fatal error: all goroutines are asleep - deadlock!",
			"",
			"goroutine 1 [chan receive]:",
			"runner says goroutine 12 [running]:",
			"main.f()",
			"\t/src/app/f.go:3 +0x1",
			"main.main()",
			"\t/src/app/main.go:9 +0x1d",
			"exit status 2",
		].join("\n");
		const back = parseCrashes(reversed(text));
		const unplaced = back.issues.filter((i) => i.code === "unplaced-line").map((i) => i.line);
		expect(new Set(unplaced).size).toBe(unplaced.length);
		expect(JSON.stringify(projectResult(back))).toBe(
			JSON.stringify(projectResult(parseCrashes(text))),
		);
	});

	// slackhq/nebula#316: a "concurrent map writes" crash pasted newest line first, each line
	// indented by one space and its file lines by nine (two excerpts of the paste, joined).
	test("slackhq/nebula#316, pasted newest line first", () => {
		const text = [
			"         github.com/slackhq/nebula/stats.go:42 +0x228",
			" created by github.com/slackhq/nebula.startStats",
			"         github.com/rcrowley/go-metrics@v0.0.0-20190826022208-cac0b30c2563/runtime.go:60 +0x6c",
			" github.com/rcrowley/go-metrics.CaptureRuntimeMemStats(0x664880, 0x4000114060, 0x2540be400)",
			" goroutine 43 [chan receive]:",
			"         github.com/slackhq/nebula/stats.go:41 +0x1e8",
			" created by github.com/slackhq/nebula.startStats",
			"         github.com/rcrowley/go-metrics@v0.0.0-20190826022208-cac0b30c2563/debug.go:27 +0x6c",
			" github.com/rcrowley/go-metrics.CaptureDebugGCStats(0x664880, 0x4000114060, 0x2540be400)",
			" goroutine 42 [chan receive]:",
			"         github.com/rcrowley/go-metrics@v0.0.0-20190826022208-cac0b30c2563/meter.go:46 +0x11c",
			" created by github.com/rcrowley/go-metrics.NewMeter",
			"         github.com/rcrowley/go-metrics@v0.0.0-20190826022208-cac0b30c2563/meter.go:239 +0x2c",
			" github.com/rcrowley/go-metrics.(*meterArbiter).tick(0x97a360)",
			" goroutine 41 [chan receive]:",
			"         runtime/panic.go:1116 +0x54 fp=0x40002b9470 sp=0x40002b9440 pc=0x42984",
			" runtime.throw(0x59f459, 0x15)",
			" goroutine 102 [running]:",
			" fatal error: concurrent map writes",
		].join("\n");
		const result = parseCrashes(text);
		expect(result.crashes).toHaveLength(1);
		const crash = result.crashes[0];
		expect(crash?.fatal).toBe("concurrent map writes");
		expect(crash?.goroutines.map((g) => [g.id, g.frames.map((f) => f.function)])).toEqual([
			[102, ["runtime.throw"]],
			[41, ["github.com/rcrowley/go-metrics.(*meterArbiter).tick"]],
			[42, ["github.com/rcrowley/go-metrics.CaptureDebugGCStats"]],
			[43, ["github.com/rcrowley/go-metrics.CaptureRuntimeMemStats"]],
		]);
		expect(crash?.goroutines[3]?.createdBy?.frame.function).toBe(
			"github.com/slackhq/nebula.startStats",
		);
	});
});
