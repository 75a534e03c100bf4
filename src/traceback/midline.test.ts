import { isDeepStrictEqual } from "node:util";
import { describe, expect, test } from "vitest";
import { listCrashFixtures, projectResult } from "../../test/_fixtures.js";
import { parseCrashes } from "./index.js";

// What stands on a line before the runtime's report when something else wrote first: each is
// put before the first line of every report of every real fixture (the lines where the parse
// of the fixture as it is says its crashes and race reports start), which must then parse to
// the same crashes, messages, goroutines and frames.
const heads: Record<string, string> = {
	"a shell prompt": "user@host:~/svc$ ",
	"an Android shell prompt (adb shell)": "/data/local/tmp # ",
	"a PowerShell prompt": "PS C:\\src\\svc> ",
	"the terminal's echo of Ctrl-\\": "^\\",
	"the terminal's echo of Ctrl-C": "^C",
	// `go test -bench` prints the benchmark's name and a tab, then its result on the same line;
	// a timeout's SIGQUIT comes first.
	"go test -bench without its result": "BenchmarkParseLarge-8   \t",
	"a progress bar redrawn with CR": "[=========>          ]  48% 1.2 MB/s\r",
	"a structured log message": 'time=2024-05-01T10:00:00.123Z level=error msg="worker failed" ',
};

const fixtures = listCrashFixtures();

function startLines(text: string): Set<number> {
	const result = parseCrashes(text);
	return new Set([...result.crashes, ...result.races].map((r) => r.startLine));
}

describe("reports that start after other text on their line", () => {
	test.each(Object.entries(heads))("%s", (_, head) => {
		const differing = fixtures.filter((fixture) => {
			const starts = startLines(fixture.text);
			const text = fixture.text
				.split("\n")
				.map((line, i) => (starts.has(i + 1) ? head + line : line))
				.join("\n");
			return !isDeepStrictEqual(
				projectResult(parseCrashes(text)),
				projectResult(parseCrashes(fixture.text)),
			);
		});
		expect(differing.map((f) => f.name)).toEqual([]);
	});

	// testing's decorate (go test -v): a dump logged with t.Log gets `    name_test.go:42: `
	// before its first line, and every further line is indented four spaces more.
	test("go test -v: a report logged with t.Log", () => {
		// Not log-interleaved: another thread's output cut into Go's lines is repaired by where
		// the cut lines end and begin, which indenting moves (as in distortions.test.ts).
		const cases = fixtures.filter((f) => f.meta.expect?.interleavedWith === undefined);
		const differing = cases.filter((fixture) => {
			const starts = startLines(fixture.text);
			const text = fixture.text
				.split("\n")
				.map((line, i) => (starts.has(i + 1) ? `    store_test.go:42: ${line}` : `        ${line}`))
				.join("\n");
			return !isDeepStrictEqual(
				projectResult(parseCrashes(text)),
				projectResult(parseCrashes(fixture.text)),
			);
		});
		expect(differing.map((f) => f.name)).toEqual([]);
	});

	test("a recovered panic after a prompt, its chain's tabs lost, keeps its chain", () => {
		const chained = fixtures.filter((f) => /^panic: .* \[recovered[\],]/.test(f.text));
		expect(chained.length).toBeGreaterThan(10);
		const differing = chained.filter((fixture) => {
			const bare = fixture.text.replace(/^\tpanic: /gm, "panic: ");
			return !isDeepStrictEqual(
				projectResult(parseCrashes(`user@host:~/svc$ ${bare}`)),
				projectResult(parseCrashes(bare)),
			);
		});
		expect(differing.map((f) => f.name)).toEqual([]);
	});

	test("the message is the report as the runtime wrote it, and the crash starts on its line", () => {
		const fixture = fixtures.find((f) => f.name === "go1.26.10-amd64/sigquit");
		expect(fixture).toBeDefined();
		const text = `ok  \tsvc/store\t0.012s\nBenchmarkParseLarge-8   \t${fixture?.text ?? ""}`;
		const [crash] = parseCrashes(text).crashes;
		expect(crash?.message).toBe("SIGQUIT: quit");
		expect(crash?.signal?.pc).toBe("0x48bb81");
		expect(crash?.startLine).toBe(2);
	});
});

describe("text that merely mentions a report is not taken for one", () => {
	const prose: Record<string, string> = {
		"a log line quoting a recovered panic": [
			'time=2024-05-01T10:00:00Z level=warn msg="handler recovered" err="panic: runtime error: index out of range [5] with length 3"',
			'time=2024-05-01T10:00:01Z level=info msg="request served" path=/v1/items',
		].join("\n"),
		"a mention followed by a blank line and more prose": [
			"I restarted it after the fatal error: concurrent map writes",
			"",
			"and it has run since.",
		].join("\n"),
		"a signal name in a shutdown message": [
			'level=info msg="got SIGTERM: terminated, shutting down"',
			"level=info msg=bye",
		].join("\n"),
		"a mention on the last line": "user@host:~/svc$ echo 'panic: boom'",
		"a goroutine header in prose, no frame after it": [
			"the log said goroutine 7 [chan receive]:",
			"and nothing more",
		].join("\n"),
	};
	test.each(Object.entries(prose))("%s", (_, text) => {
		const result = parseCrashes(text);
		expect(result.crashes).toEqual([]);
		expect(result.races).toEqual([]);
		expect(result.lines).toBe(text.split("\n").length);
	});

	test("a mention just before a real crash leaves the crash as it is", () => {
		for (const fixture of fixtures.filter((_, i) => i % 5 === 0)) {
			const text = `level=warn msg="recovered" err="panic: earlier"\n${fixture.text}`;
			expect(projectResult(parseCrashes(text))).toEqual(projectResult(parseCrashes(fixture.text)));
		}
	});
});

describe("a shell's line after the panic line", () => {
	// xudongzheng/gitstreak#3: the prompt of a second command landed between the panic and its stack.
	const text = [
		"panic: runtime error: slice bounds out of range",
		"$ gitstream linux",
		"goroutine 1 [running]:",
		"main.main()",
		"\t/src/gitstreak/main.go:96 +0x1c",
		"",
	].join("\n");

	test("is not part of a runtime error, whose text is one line", () => {
		const result = parseCrashes(text);
		expect(result.crashes.map((c) => c.panics.map((p) => p.value))).toEqual([
			["runtime error: slice bounds out of range"],
		]);
		expect(result.crashes[0]?.goroutines.map((g) => g.frames.length)).toEqual([1]);
		expect(result.issues.map((i) => [i.code, i.line])).toEqual([["unplaced-line", 2]]);
	});

	test("is part of a program's own multi-line value, as Go 1.22 and older printed it", () => {
		const own = text.replace("runtime error: slice bounds out of range", "bad state");
		expect(parseCrashes(own).crashes[0]?.panics[0]?.value).toBe("bad state\n$ gitstream linux");
	});
});

describe("the runtime's own fatal lines, written without throw", () => {
	test("are the crash's fatal error, and the abort's signal after one without a newline is read", () => {
		// golang/go#31538: runtime/stubs.go badsystemstack writes its message without a newline.
		const glued = [
			"fatal: systemstack called from unexpected goroutineSIGTRAP: trace trap",
			"PC=0x45f5b3 m=5 sigcode=128",
			"",
			"goroutine 0 [idle]:",
			"runtime.abort()",
			"\t/usr/local/go/src/runtime/asm_amd64.s:1115 +0x2",
			"",
		].join("\n");
		const [crash] = parseCrashes(glued).crashes;
		expect(crash?.message).toBe("fatal: systemstack called from unexpected goroutine");
		expect(crash?.fatal).toBe("systemstack called from unexpected goroutine");
		expect(crash?.signal).toMatchObject({ name: "SIGTRAP", pc: "0x45f5b3", m: 5 });
		expect(crash?.goroutines.map((g) => g.id)).toEqual([0]);
		// giongto35/cloud-game#406: runtime/proc.go badmorestackg0, on its own line.
		const g0 = glued.replace(
			"fatal: systemstack called from unexpected goroutine",
			"fatal: morestack on g0\n",
		);
		expect(parseCrashes(g0).crashes.map((c) => [c.fatal, c.signal?.name])).toEqual([
			["morestack on g0", "SIGTRAP"],
		]);
	});
});

describe("reports on one line with what came before them", () => {
	test("a reason and the goroutine header on one line are a reason, then a header", () => {
		// bcicen/ctop#254: the paste lost the newline and the blank line after the panic.
		const text = [
			"panic: runtime error: index out of range [1] with length 1 goroutine 32 [running]:",
			"github.com/bcicen/ctop/connector/collector.(*DockerLogs).Stream.func1(0xc00030c018, 0xc000516580, 0xc0002d2660)",
			"\t/app/connector/collector/docker_logs.go:52 +0x1f4",
			"",
		].join("\n");
		const result = parseCrashes(text);
		expect(result.crashes.map((c) => [c.message, c.goroutines.map((g) => g.id)])).toEqual([
			["panic: runtime error: index out of range [1] with length 1", [32]],
		]);
		expect(result.issues).toEqual([]);
	});

	test("stacks a logger wrote after the same message, one after another, are a report each", () => {
		// probelabs/goreplay#622: log.Printf("PANIC: pkg: %v %s", r, debug.Stack()), twice.
		const logged = (at: string, id: number) => [
			`2018/11/16 ${at} PANIC: pkg: runtime error: slice bounds out of range goroutine ${id} [running]:`,
			"runtime/debug.Stack(0x0, 0x0, 0x0)",
			"\t/usr/local/go/src/runtime/debug/stack.go:24 +0x80",
			"main.(*HTTPClient).Send.func1(0xc82116dc78, 0xc82116dc90)",
			"\t/go/src/github.com/buger/goreplay/http_client.go:147 +0x52d",
			"",
		];
		const text = [...logged("15:21:48", 106), ...logged("15:29:40", 6)].join("\n");
		const result = parseCrashes(text);
		expect(result.crashes.map((c) => [c.startLine, c.goroutines.map((g) => g.id)])).toEqual([
			[1, [106]],
			[7, [6]],
		]);
		expect(result.issues).toEqual([]);
	});
});

describe("a panic value that ends with a newline", () => {
	test("has its [recovered] mark on a line of its own, which is the mark, not the value", () => {
		// zeta-chain/node#3393: testing's panic value ended with a JSON log line's newline.
		const text = [
			'panic: Log in goroutine after TestScheduler has completed: {"level":"info","message":"done"}',
			"\t [recovered]",
			'\tpanic: Log in goroutine after TestScheduler has completed: {"level":"info","message":"done"}',
			"\t",
			"",
			"goroutine 78 [running]:",
			"testing.tRunner.func1.2({0x1a2b3c0, 0xc0005d2a10})",
			"\t/opt/hostedtoolcache/go/1.23.4/x64/src/testing/testing.go:1632 +0x3fc",
			"",
		].join("\n");
		const [crash] = parseCrashes(text).crashes;
		// The last value's own newline is the line of a tab alone before Go's blank line.
		expect(crash?.panics.map((p) => [p.value.endsWith('"done"}\n'), p.recovered])).toEqual([
			[true, true],
			[true, false],
		]);
		expect(crash?.goroutines.map((g) => g.id)).toEqual([78]);
	});
});

describe("a panic value with blank lines of its own", () => {
	test("goes on after them, which Go 1.23 and later indent, to the goroutine header", () => {
		const text = [
			"panic: ",
			"\tYour test failed.",
			"\tNormally Ginkgo rescues this panic so you shouldn't see it.",
			"\t",
			"\tBut, if you make an assertion in a goroutine, Ginkgo can't capture the panic.",
			"",
			"goroutine 114 [running]:",
			"github.com/onsi/ginkgo/v2.Fail({0xc000320000, 0x44}, {0xc0001a7d38?, 0x1?, 0x1?})",
			"\t/home/u/go/pkg/mod/github.com/onsi/ginkgo/v2@v2.13.0/core_dsl.go:374 +0x1c5",
			"",
		].join("\n");
		const result = parseCrashes(text);
		expect(result.crashes[0]?.panics.map((p) => p.value)).toEqual([
			"\nYour test failed.\nNormally Ginkgo rescues this panic so you shouldn't see it.\n\nBut, if you make an assertion in a goroutine, Ginkgo can't capture the panic.",
		]);
		expect(result.crashes[0]?.goroutines.map((g) => g.id)).toEqual([114]);
		expect(result.issues).toEqual([]);
	});

	test("ends at Go's own empty blank line, whatever text comes after it", () => {
		const text = [
			"panic: boom",
			"",
			"WARN other thread says hi",
			"goroutine 1 [running]:",
			"main.main()",
			"\t/x/main.go:5 +0x1d",
			"",
		].join("\n");
		const result = parseCrashes(text);
		expect(result.crashes[0]?.panics.map((p) => p.value)).toEqual(["boom"]);
		expect(result.issues.map((i) => [i.code, i.line])).toEqual([["unplaced-line", 3]]);
	});
});

describe("a panic Kubernetes' HandleCrash logged through klog's structured logging", () => {
	test("is a panic with the quoted value, and the stack below it its goroutine", () => {
		// kubernetes/kubernetes#137993, its wrapped lines joined, shortened.
		const text = [
			'E0319 17:08:49.016993 4073428 panic.go:262] "Observed a panic" panic="runtime error: invalid memory address or nil pointer dereference" panicGoValue="\\"invalid memory address or nil pointer dereference\\"" stacktrace=<',
			"        goroutine 1447 [running]:",
			"        k8s.io/apimachinery/pkg/util/runtime.logPanic({0x2bef938, 0xc000e8d5f0}, {0x22be140, 0x3f1ac90})",
			"                k8s.io/apimachinery/pkg/util/runtime/runtime.go:132 +0xbc",
			"        panic({0x22be140?, 0x3f1ac90?})",
			"                runtime/panic.go:783 +0x132",
			"        k8s.io/kubernetes/pkg/kubelet/kuberuntime.(*kubeGenericRuntimeManager).doPodResizeAction(0xc000c4b380)",
			"                k8s.io/kubernetes/pkg/kubelet/kuberuntime/kuberuntime_manager.go:860 +0xc7e",
			" >",
			"",
		].join("\n");
		const [crash] = parseCrashes(text).crashes;
		expect(crash?.kind).toBe("panic");
		expect(crash?.panics.map((p) => p.value)).toEqual([
			"runtime error: invalid memory address or nil pointer dereference",
		]);
		expect(crash?.goroutines.map((g) => [g.id, g.frames.length])).toEqual([[1447, 3]]);
	});
});

describe("a line that only mentions a report, after the open report's own prefix", () => {
	test("does not end the open report", () => {
		const text = [
			"worker-1: panic: boom",
			"",
			"goroutine 1 [running]:",
			"main.main()",
			"\t/x/main.go:5 +0x1d",
			"",
			"goroutine 7 [chan receive]:",
			"main.worker()",
			"\t/x/w.go:3 +0x1",
			"worker-2: recovered from panic: timeout",
			"main.helper()",
			"\t/x/h.go:9 +0x1",
			"created by main.start in goroutine 1",
			"\t/x/s.go:2 +0x1",
			"",
		].join("\n");
		const result = parseCrashes(text);
		expect(result.crashes.map((c) => c.goroutines.map((g) => [g.id, g.frames.length]))).toEqual([
			[
				[1, 1],
				[7, 2],
			],
		]);
		expect(result.issues.map((i) => [i.code, i.line])).toEqual([["unplaced-line", 10]]);
	});

	test("after a blank line, in a log that is not double-spaced, does not take the crash after it", () => {
		const text = [
			"pod app panic: handled earlier",
			"pod app ",
			"pod app ok",
			"pod app fatal error: all goroutines are asleep - deadlock!",
			"pod app ",
			"pod app goroutine 1 [chan receive]:",
			"pod app main.main()",
			"pod app \t/x/main.go:5 +0x1d",
			"",
		].join("\n");
		const result = parseCrashes(text);
		expect(result.crashes.map((c) => [c.kind, c.startLine, c.panics.length])).toEqual([
			["fatal", 4, 0],
		]);
	});
});
