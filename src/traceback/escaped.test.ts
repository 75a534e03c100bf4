import { describe, expect, test } from "vitest";
import { listCrashFixtures } from "../../test/_fixtures.js";
import { type Crash, MAX_LINE_LENGTH, parseCrashes } from "./index.js";

// A stack a logger wrote as one line, its newlines and tabs escaped: debug.Stack() in a JSON
// field (slog's JSONHandler, zap, logrus) or in a %q (logfmt), as a recovery middleware logs it.
const frames = (crashes: Crash[]) =>
	crashes.flatMap((c) =>
		c.goroutines.map((g) => [
			g.id,
			g.stateText,
			g.frames.map((f) => `${f.function} ${f.file}:${f.line}`),
		]),
	);

describe("a stack logged on one line with its newlines escaped", () => {
	// The goroutines of every fixture without race reports or other output between the lines, and
	// short enough to be one line (longer lines are cut: MAX_LINE_LENGTH).
	const dumps = listCrashFixtures().filter((f) => {
		const result = parseCrashes(f.text);
		return (
			f.meta.expect?.interleavedWith === undefined &&
			result.races.length === 0 &&
			result.crashes.length === 1 &&
			(result.crashes[0]?.goroutines.length ?? 0) > 0 &&
			!f.text.includes("\r") &&
			f.text.length < MAX_LINE_LENGTH / 2
		);
	});
	const stanzas = (text: string) => text.slice(text.search(/^goroutine \d+ \[/m));

	test.each([
		[
			"slog's JSON handler",
			(stack: string) =>
				JSON.stringify({ time: "2024-05-01T10:00:00Z", level: "ERROR", msg: "recovered", stack }),
		],
		[
			"logfmt with %q",
			(stack: string) =>
				`time=2024-05-01T10:00:00Z level=error msg=recovered stack=${JSON.stringify(stack)}`,
		],
	])("%s: every fixture's goroutines are read", (_, log) => {
		expect(dumps.length).toBeGreaterThan(500);
		const differing = dumps.filter((f) => {
			const stack = stanzas(f.text);
			const line = `INFO starting\n${log(stack)}\nINFO next request\n`;
			return (
				JSON.stringify(frames(parseCrashes(line).crashes)) !==
				JSON.stringify(frames(parseCrashes(stack).crashes))
			);
		});
		expect(differing.map((f) => f.name)).toEqual([]);
	});

	test("each logged stack is a report of its own, and the runtime's own panic line is as printed", () => {
		const stack = (id: number, fn: string) =>
			`goroutine ${id} [running]:\n${fn}()\n\t/app/${fn}.go:9 +0x1d\nmain.main()\n\t/app/main.go:5 +0x20\n`;
		const logged = (id: number, fn: string) =>
			JSON.stringify({ level: "ERROR", msg: "recovered", stack: stack(id, fn) });
		const text = [logged(7, "main.a"), "INFO next", logged(12, "main.b"), logged(12, "main.b")];
		const result = parseCrashes(`${text.join("\n")}\n`);
		expect(result.crashes.map((c) => c.goroutines.map((g) => [g.id, g.frames.length]))).toEqual([
			[[7, 2]],
			[[12, 2]],
			[[12, 2]],
		]);
		expect(result.issues).toEqual([]);
		// A panic value that quotes a logged stack: the runtime's line is read as it printed it.
		const quoted = `panic: worker failed: ${JSON.stringify(stack(7, "main.a"))}`;
		const [crash] = parseCrashes(
			`${quoted}\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:5 +0x20\n`,
		).crashes;
		expect(crash?.message).toBe(quoted);
		expect(crash?.goroutines.map((g) => g.id)).toEqual([1]);
	});

	test("a long line that merely holds a \\n is left alone", () => {
		const line = `msg="${"x".repeat(300)}\\nnot a stack"`;
		const result = parseCrashes(`${line}\n`);
		expect(result.crashes).toEqual([]);
		expect(result.lines).toBe(1);
	});
});
