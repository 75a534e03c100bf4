import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { projectResult } from "../../test/_fixtures.js";
import { parseCrashes } from "./index.js";

// Crash text pasted into public issues, with what stood around it (test/fixtures/wild/README.md).
const wild = (name: string) =>
	readFileSync(new URL(`../../test/fixtures/wild/${name}.txt`, import.meta.url), "utf8");

describe("crash text from the wild", () => {
	test("a TeamCity log: its prefix, with tabs in it, is learned from the report's lines", () => {
		const text = wild("teamcity-bench-sigquit");
		const result = parseCrashes(text);
		expect(result.crashes).toHaveLength(1);
		const [crash] = result.crashes;
		expect(crash?.message).toBe("SIGQUIT: quit");
		expect(crash?.signal).toMatchObject({ name: "SIGQUIT", pc: "0x45d4f1", m: 0 });
		expect(crash?.startLine).toBe(4);
		expect(crash?.goroutines.map((g) => [g.id, g.stateText])).toEqual([[0, "idle"]]);
		expect(crash?.goroutines[0]?.frames.map((f) => `${f.function} ${f.file}:${f.line}`)).toEqual([
			"runtime.futex /usr/local/go/src/runtime/sys_linux_amd64.s:530",
			"runtime.futexsleep /usr/local/go/src/runtime/os_linux.go:45",
			"runtime.notesleep /usr/local/go/src/runtime/lock_futex.go:151",
			"runtime.stopm /usr/local/go/src/runtime/proc.go:1952",
		]);
		expect(result.issues).toEqual([]);
		// The same text with TeamCity's prefix cut off every line reads the same.
		const bare = text.replace(/^\[\d\d:\d\d:\d\d\] :\t\t \[Run Benchmarks\] /gm, "");
		expect(projectResult(result)).toEqual(projectResult(parseCrashes(bare)));
	});

	test("Android's logcat: its prefix stripped, the runtime's object dump kept", () => {
		const result = parseCrashes(wild("logcat-bad-pointer-android-32bit"));
		expect(result.crashes).toHaveLength(1);
		const [crash] = result.crashes;
		expect(crash?.runtimeLines).toHaveLength(14);
		expect(crash?.runtimeLines.slice(0, 3).map((l) => l.slice(0, 40))).toEqual([
			"runtime: pointer 0x83103d47 to unused re",
			"runtime: found in object at *(0x602a3950",
			"object=0x602a3950 k=0x30151 s.base()=0x6",
		]);
		expect(crash?.runtimeLines).toContain("*(object+12) = 0x83103d47 <==");
		// The copy ends before the fatal error and the stacks.
		expect(result.issues.map((i) => i.code)).toEqual(["truncated"]);
	});

	test("a span's zombie report: its objects and the zombie's words are the runtime's lines", () => {
		const result = parseCrashes(wild("zombie-object-report-windows"));
		const [crash] = result.crashes;
		expect(crash?.fatal).toBe("found pointer to free object");
		expect(crash?.startLine).toBe(1);
		expect(crash?.runtimeLines).toHaveLength(17);
		expect(crash?.runtimeLines.slice(4, 6)).toEqual([
			"0xc00031ca30 free  marked   zombie",
			"0x000000c00031ca30:  0x000000c00031ca30  0x0000000000dea7c8",
		]);
		expect(crash?.goroutines.map((g) => [g.id, g.frames.length])).toEqual([[3, 4]]);
		// A zombie of 48 bytes has three lines of words, all the runtime's.
		const wide = wild("zombie-object-report-windows").replace(
			"0x000000c00031ca30:  0x000000c00031ca30  0x0000000000dea7c8",
			"0x000000c00031ca30:  0x000000c00031ca30  0x0000000000dea7c8\n0x000000c00031ca40:  0x0000000000000001  0x0000000000000002\n0x000000c00031ca50:  0x0000000000000003  0x0000000000000004",
		);
		expect(parseCrashes(wide).crashes[0]?.runtimeLines).toHaveLength(19);
		// Only the reporter's two `...` cuts are not the runtime's.
		expect(result.issues.map((i) => [i.code, i.line])).toEqual([
			["unplaced-line", 5],
			["unplaced-line", 18],
		]);
	});

	test("go test -bench: the timeout's SIGQUIT on the benchmark's line", () => {
		const result = parseCrashes(wild("go-test-bench-sigquit"));
		expect(result.crashes).toHaveLength(1);
		const [crash] = result.crashes;
		expect(crash?.message).toBe("SIGQUIT: quit");
		expect(crash?.kind).toBe("signal");
		expect(crash?.signal).toMatchObject({ name: "SIGQUIT", pc: "0x475921" });
		expect(crash?.startLine).toBe(5);
		expect(crash?.goroutines.map((g) => [g.id, g.gp, g.stateText])).toEqual([
			[0, "0x66bdc0", "idle"],
		]);
		expect(crash?.exitStatus).toBe(2);
		// The reporter cut the dump with `...`: the frame has no file line.
		expect(crash?.truncated).toBe(true);
	});

	// Columns: fixture, goroutine ids, first line of the crash, wait minutes after the alarm
	// goroutine, and whether the text ends inside a stack (the copy ends on a function line).
	test.each([
		["go-test-timeout-testmain", [243, 1], 1, [9], false],
		["go-test-timeout-circleci", [143, 1, 156], 3, [7, null], false],
		["go-test-timeout-waitgroup", [3650, 1, 3444], 1, [2, 2], true],
	] as const)("a go test timeout panic: %s", (name, ids, startLine, minutes, truncated) => {
		const result = parseCrashes(wild(name));
		expect(result.crashes).toHaveLength(1);
		const [crash] = result.crashes;
		expect(crash?.panics.map((p) => p.value)).toEqual([
			expect.stringMatching(/^test timed out after \d+m0s$/),
		]);
		expect(crash?.startLine).toBe(startLine);
		expect(crash?.goroutines.map((g) => g.id)).toEqual(ids);
		expect(crash?.goroutines[0]?.frames[0]?.function).toBe("testing.(*M).startAlarm.func1");
		expect(crash?.goroutines.slice(1).map((g) => g.waitMinutes)).toEqual(minutes);
		expect(crash?.truncated).toBe(truncated);
		expect(result.issues.map((i) => i.code)).toEqual(truncated ? ["truncated"] : []);
	});

	test("a GC worker's unwinder crash with a log timestamp on every line", () => {
		const result = parseCrashes(wild("unwinder-sigsegv-amd64"));
		expect(result.issues).toEqual([]);
		const [crash] = result.crashes;
		expect(crash?.message).toBe("SIGSEGV: segmentation violation");
		expect(crash?.signal).toMatchObject({ name: "SIGSEGV", addr: "0x118", pc: "0x468865" });
		const [g] = crash?.goroutines ?? [];
		expect(g).toMatchObject({ id: 0, gp: "0xc000103180", mp: "0xc000100808", state: "idle" });
		expect(g?.frames.map((f) => [f.function, f.line, f.sp])).toEqual([
			["runtime.(*unwinder).next", 457, "0xc000157c70"],
			["runtime.scanstack", 899, "0xc000157ce8"],
			["runtime.markroot.func1", 241, "0xc000157e18"],
			["runtime.markroot", 215, "0xc000157e68"],
		]);
	});

	test("a signal line that gives the signal's number, as Go 1.4 printed it", () => {
		const result = parseCrashes(wild("signal-number-go1.4"));
		expect(result.issues).toEqual([]);
		const [crash] = result.crashes;
		expect(crash?.panics.map((p) => p.value)).toEqual([
			"runtime error: invalid memory address or nil pointer dereference",
		]);
		expect(crash?.signal).toMatchObject({
			name: "SIGSEGV",
			description: "segmentation violation",
			code: "0x1",
			addr: "0x0",
			pc: "0x5404da",
		});
		expect(crash?.goroutines.map((g) => [g.id, g.frames.length])).toEqual([
			[23, 2],
			[1, 3],
		]);
	});

	test.each([
		[
			"a Windows exception code is named as Windows names it",
			"0xc0000005",
			"EXCEPTION_ACCESS_VIOLATION",
		],
		["a signal number whose name differs between systems is kept as the number", "0x7", "0x7"],
	])("%s", (_, number, name) => {
		const text = wild("signal-number-go1.4").replace("[signal 0xb ", `[signal ${number} `);
		expect(parseCrashes(text).crashes[0]?.signal).toMatchObject({
			name,
			description: "",
			addr: "0x0",
		});
	});

	test("frame lines that end in fp= and sp= without pc=, and a log line inside the crash", () => {
		const result = parseCrashes(wild("map-read-write-gin-go1.7"));
		const [crash] = result.crashes;
		expect(crash?.message).toBe("fatal error: concurrent map read and map write");
		const frames = crash?.goroutines[0]?.frames ?? [];
		expect(frames.map((f) => f.function)).toEqual([
			"runtime.throw",
			"runtime.mapaccess2",
			"reflect.mapaccess",
			"reflect.Value.MapIndex",
			"encoding/json.(*mapEncoder).encode",
			"encoding/json.(*mapEncoder).(encoding/json.encode)-fm",
		]);
		expect(frames[0]).toMatchObject({
			file: "/usr/local/go/src/runtime/panic.go",
			line: 566,
			offset: 0x95,
			fp: "0xc4207b9080",
			sp: "0xc4207b9060",
			pc: null,
		});
		expect(result.issues.map((i) => [i.code, i.line])).toEqual([
			["unplaced-line", 3],
			["truncated", 16],
		]);
	});

	test("a race report of Go 1.6, whose accesses name no address", () => {
		const result = parseCrashes(wild("race-no-address-go1.6"));
		expect(result.races).toHaveLength(1);
		const [race] = result.races;
		expect(
			race?.accesses.map((a) => [a.kind, a.previous, a.address, a.goroutine, a.frames.length]),
		).toEqual([
			["write", false, null, 96, 1],
			["write", true, null, 91, 3],
		]);
		expect(race?.goroutines.map((g) => [g.id, g.frames.length])).toEqual([
			[96, 3],
			[91, 2],
		]);
		expect(result.issues.map((i) => i.code)).toEqual(["truncated"]);
	});

	test("a Windows exception: its header read as the signal, during external (cgo) code", () => {
		const result = parseCrashes(wild("windows-exception-cgo-go1.5"));
		expect(result.crashes).toHaveLength(1);
		const [crash] = result.crashes;
		expect(crash?.kind).toBe("signal");
		expect(crash?.message).toBe("Exception 0xc0000005 0x8 0x0 0x0");
		expect(crash?.signal).toEqual({
			name: "EXCEPTION_ACCESS_VIOLATION",
			description: "",
			code: "0x8",
			addr: "0x0",
			pc: "0x0",
			m: null,
			duringCgo: true,
			instructionBytes: null,
		});
		// The crashing goroutine's stack, which Windows prints without a header: no id, no state.
		expect(crash?.goroutines.map((g) => [g.id, g.state, g.stateText, g.line])).toEqual([
			[null, "running", "", 5],
			[17, "syscall", "syscall, locked to thread", 16],
			[5, "chan receive", "chan receive", 20],
		]);
		expect(crash?.goroutines[0]?.frames.map((f) => f.function)).toEqual([
			"github.com/mattn/go-oci8._Cfunc_WrapOCIEnvCreate",
			"github.com/mattn/go-oci8.(*OCI8Driver).Open",
			"database/sql.(*DB).conn",
			"database/sql.(*DB).Ping",
			"main.main",
		]);
		expect(crash?.registers).toMatchObject({ rax: "0x22fd30", r8: "0x0" });
		expect(result.issues).toEqual([]);
		// Only Windows' own header has a stack without a header after it.
		const other = parseCrashes(
			"[signal 0xc0000005 code=0x0 addr=0x0 pc=0x45d4f1]\n\nmain.main()\n\t/app/main.go:9 +0x1d\n",
		);
		expect(other.crashes[0]?.goroutines).toEqual([]);
	});
	test("SIGILL on arm64 with the bytes at the pc, all zero (the code itself read as zeros)", () => {
		const result = parseCrashes(wild("sigill-zeroed-code-arm64-go1.23"));
		expect(result.crashes).toHaveLength(1);
		const [crash] = result.crashes;
		expect(crash?.message).toBe("SIGILL: illegal instruction");
		expect(crash?.signal).toMatchObject({
			name: "SIGILL",
			code: "1",
			pc: "0x3c9420",
			m: 0,
			instructionBytes: Array(16).fill("0x0").join(" "),
		});
		expect(crash?.goroutines.map((g) => [g.id, g.frames.length])).toEqual([
			[1, 5],
			[2, 4],
			[17, 2],
		]);
		// The pc is flag.init's own first instruction.
		expect(crash?.goroutines[0]?.frames[0]).toMatchObject({
			function: "flag.init",
			pc: "0x3c9420",
		});
		expect(result.issues).toEqual([]);
	});

	test("a Go 1.5 SIGILL in a build log: the PC= line without sigcode=, under a learned prefix", () => {
		const result = parseCrashes(wild("sigill-obs-build-log-go1.5"));
		expect(result.crashes).toHaveLength(1);
		const [crash] = result.crashes;
		expect(crash?.message).toBe("SIGILL: illegal instruction");
		expect(crash?.startLine).toBe(2);
		expect(crash?.signal).toMatchObject({ name: "SIGILL", code: null, pc: "0x7ffd07d7ac99", m: 5 });
		expect(crash?.goroutines.map((g) => [g.id, g.stateText, g.frames.length])).toEqual([
			[0, "idle", 0],
			[3, "running", 4],
			[1, "chan receive", 2],
		]);
		expect(result.issues).toEqual([]);
	});
	test('panic("") twice after zsh prompts, then a race report: empty panic values are panics', () => {
		const result = parseCrashes(wild("empty-panic-zsh-then-race"));
		expect(
			result.crashes.map((c) => [c.kind, c.message, c.panics.map((p) => p.value), c.startLine]),
		).toEqual([
			["panic", "panic:", [""], 2],
			["panic", "panic:", [""], 9],
		]);
		expect(result.crashes.map((c) => c.goroutines.map((g) => g.id))).toEqual([[4], [8]]);
		expect(result.crashes[1]?.exitStatus).toBe(2);
		expect(result.races.map((r) => r.accesses.map((a) => a.goroutine))).toEqual([[6, 5]]);
		expect(result.issues.map((i) => [i.code, i.line])).toEqual([["truncated", 29]]);
	});
	test("a log system's CSV export: each line's message is its last quoted field", () => {
		const result = parseCrashes(wild("csv-export-map-read-write"));
		expect(result.crashes).toHaveLength(1);
		const [crash] = result.crashes;
		expect(crash?.message).toBe("fatal error: concurrent map read and map write");
		expect(crash?.goroutines.map((g) => [g.id, g.frames.length])).toEqual([[101135, 3]]);
		expect(crash?.goroutines[0]?.frames[0]).toMatchObject({
			function: "gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer.(*propagatorW3c).injectTextMap",
			file: ".../vendor/gopkg.in/DataDog/dd-trace-go.v1/ddtrace/tracer/textmap.go",
			line: 674,
		});
		expect(result.issues).toEqual([]);
	});
	test("a double-spaced paste of a stack without its header: told of, blank lines and all", () => {
		const result = parseCrashes(wild("double-spaced-stack-without-header"));
		expect(result.crashes).toEqual([]);
		expect(result.issues).toEqual([
			{
				code: "stack-without-header",
				line: 1,
				message:
					"lines 1-23: a stack of 6 frames outside any crash (the goroutine header line before it, 'goroutine N [state]:', is missing)",
			},
		]);
	});
	test("every one, double-spaced, reads as it does (a Windows exception's headerless stack too)", () => {
		const dir = new URL("../../test/fixtures/wild/", import.meta.url);
		const names = readdirSync(dir).filter((f) => f.endsWith(".txt"));
		expect(names.length).toBeGreaterThan(10);
		const reports = (text: string) => {
			const { crashes, races } = projectResult(parseCrashes(text)) as Record<string, unknown>;
			return JSON.stringify([crashes, races]);
		};
		const differing = names.filter((name) => {
			const lines = wild(name.slice(0, -4)).split("\n");
			const last = lines.pop();
			const spaced = `${lines.flatMap((l) => [l, ""]).join("\n")}\n${last ?? ""}`;
			return reports(spaced) !== reports(wild(name.slice(0, -4)));
		});
		expect(differing).toEqual([]);
	});
});
