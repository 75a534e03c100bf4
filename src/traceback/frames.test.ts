import { describe, expect, test } from "vitest";
import { listCrashFixtures } from "../../test/_fixtures.js";
import { type Frame, parseCrashes } from "./index.js";

// Every frame of every fixture, by function name.
const frames = new Map<string, Frame>();
for (const fixture of listCrashFixtures()) {
	for (const crash of parseCrashes(fixture.text).crashes) {
		for (const g of crash.goroutines) for (const f of g.frames) frames.set(f.function, f);
	}
}

describe("package and receiver of real function names", () => {
	test.each([
		["runtime.gopark", "runtime", null],
		["main.idle.func2", "main", null],
		["net/http.(*conn).serve", "net/http", "*conn"],
		["internal/runtime/maps.(*Iter).Next", "internal/runtime/maps", "*Iter"],
		["main.holdLock[...]", "main", null],
		["main.(*pipeline[...]).drain", "main", "*pipeline[...]"],
		["weak.Pointer[...].Value", "weak", null],
	])("%s", (name, pkg, receiver) => {
		const frame = frames.get(name);
		expect(frame?.package).toBe(pkg);
		expect(frame?.receiver).toBe(receiver);
	});

	test("URL escapes in the import path are decoded", () => {
		const text = [
			"goroutine 1 [running]:",
			"example.com/my%2epkg/v2.(*T).Run(0x1)",
			"\t/src/x.go:3 +0x1d",
			"",
		].join("\n");
		const frame = parseCrashes(text).crashes[0]?.goroutines[0]?.frames[0];
		expect(frame?.package).toBe("example.com/my.pkg/v2");
		expect(frame?.receiver).toBe("*T");
	});

	test("JSON holds every field of a frame, in the documented order", () => {
		const frame = frames.get("net/http.(*conn).serve");
		const json = JSON.parse(JSON.stringify(frame)) as Record<string, unknown>;
		expect(Object.keys(json)).toEqual([
			"function",
			"package",
			"receiver",
			"args",
			"inlined",
			"file",
			"line",
			"offset",
			"fp",
			"sp",
			"pc",
		]);
		expect(json).toMatchObject({ package: "net/http", receiver: "*conn", inlined: false });
		expect(json.file).toMatch(/\/net\/http\/server\.go$/);
	});
});

describe("a frame's file line cut inside its fp=, sp=, pc= part", () => {
	// nyaosorg/nyagos#76: a console 80 columns wide wrapped the line inside `sp=`.
	test("keeps its file, line and offset, and says what was lost", () => {
		const text = [
			"goroutine 1 [running]:",
			"main.main()",
			"\tC:/Users/Hayama/GoSrc/nyagos/main/nyagos.go:209 +0xebe fp=0x117acfcc s",
			"0x117ace94",
			"",
		].join("\n");
		const result = parseCrashes(text);
		const frame = result.crashes[0]?.goroutines[0]?.frames[0];
		expect([frame?.file, frame?.line, frame?.offset, frame?.fp]).toEqual([
			"C:/Users/Hayama/GoSrc/nyagos/main/nyagos.go",
			209,
			0xebe,
			null,
		]);
		// The wrapped rest of the line, at the end of the text, is other output after the crash.
		expect(result.issues.map((i) => [i.code, i.line])).toEqual([["truncated", 3]]);
	});

	test("a whole fp=, sp= and pc= part is read as it always was", () => {
		const text = "goroutine 1 [running]:\nmain.main()\n\t/a/b.go:9 +0x1 fp=0xc0 sp=0xb0 pc=0x10\n";
		const result = parseCrashes(text);
		expect(result.crashes[0]?.goroutines[0]?.frames[0]).toMatchObject({ fp: "0xc0", pc: "0x10" });
		expect(result.issues).toEqual([]);
	});
});

describe("a goroutine whose pc the runtime cannot unwind", () => {
	// golang/go#43228 (linux/ppc64le): `unknown pc` and the stack's bounds, twice, each after a
	// blank line, then the goroutine's `created by`.
	const text = [
		"goroutine 10 [running]:",
		"runtime: unknown pc 0x12569fdc8",
		"stack: frame={sp:0x3fff57ffe5a0, fp:0x0} stack=[0xc000063800,0xc000064000)",
		"",
		"runtime: unknown pc 0x12569fdc8",
		"stack: frame={sp:0x3fff57ffe5a0, fp:0x0} stack=[0xc000063800,0xc000064000)",
		"",
		"created by text/template/parse.lex",
		"\ttext/template/parse/lex.go:223 +0x178",
		"",
		"goroutine 1 [running]:",
		"\tgoroutine running on other thread; stack unavailable",
		"",
	].join("\n");

	test("keeps its created by line after the blank lines", () => {
		const result = parseCrashes(text);
		const goroutines = result.crashes[0]?.goroutines ?? [];
		expect(goroutines.map((g) => [g.id, g.createdBy?.frame.function ?? null])).toEqual([
			[10, "text/template/parse.lex"],
			[1, null],
		]);
		expect(result.crashes[0]?.stackDumps).toHaveLength(2);
		expect(result.issues).toEqual([]);
	});
});

describe("a frame's line that a terminal or an editor wrapped", () => {
	test("is read joined: a file path cut at a slash, a function line inside its arguments", () => {
		// kubernetes/kubernetes#86676 and #137993, shortened.
		const text = [
			"goroutine 603 [running]:",
			"k8s.io/apimachinery/pkg/util/runtime.logPanic(0x3a2dec0, 0x6d6df80)",
			"\t/go/src/k8s.io/kubernetes/vendor/k8s.io/apimachinery/",
			"pkg/util/runtime/runtime.go:74 +0xa3",
			"k8s.io/kubernetes/pkg/kubelet/kuberuntime.(*kubeGenericRuntimeManager).doPodResizeAction(0xc000c4b380, 0xc000",
			"d6cd88, 0xc001270160)",
			"\tk8s.io/kubernetes/pkg/kubelet/kuberuntime/kuberuntime_manager.go:860 +0xc7e",
			"",
		].join("\n");
		const result = parseCrashes(text);
		const frames = result.crashes[0]?.goroutines[0]?.frames ?? [];
		expect(frames.map((f) => [f.function, f.args, f.file, f.line])).toEqual([
			[
				"k8s.io/apimachinery/pkg/util/runtime.logPanic",
				"0x3a2dec0, 0x6d6df80",
				"/go/src/k8s.io/kubernetes/vendor/k8s.io/apimachinery/pkg/util/runtime/runtime.go",
				74,
			],
			[
				"k8s.io/kubernetes/pkg/kubelet/kuberuntime.(*kubeGenericRuntimeManager).doPodResizeAction",
				"0xc000c4b380, 0xc000d6cd88, 0xc001270160",
				"k8s.io/kubernetes/pkg/kubelet/kuberuntime/kuberuntime_manager.go",
				860,
			],
		]);
		expect(result.issues).toEqual([]);
	});
});
