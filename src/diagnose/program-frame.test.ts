import { describe, expect, it } from "vitest";
import { builtinRulesDir, loadRules } from "../cli/diagnose.js";
import { parseCrashes } from "../traceback/index.js";
import { collectNotes, diagnose } from "./index.js";

const { rules } = await loadRules([builtinRulesDir]);

function programFrameEvidence(lines: string[]): string[] {
	const text = lines.join("\n");
	const d = diagnose(parseCrashes(text), { rules, notes: collectNotes(text) });
	return (d.findings[0]?.evidence ?? []).filter((e) => e.startsWith("program frame: "));
}

// A recover-and-log handler (Kubernetes' HandleCrash) prints the stack from inside its deferred
// call: its own frames, then `panic(…)`, then the frame whose nil dereference started it.
const logged = [
	'E0623 15:24:30.674204 1 runtime.go:78] Observed a panic: "invalid memory address or nil pointer dereference" (runtime error: invalid memory address or nil pointer dereference)',
	"goroutine 552 [running]:",
	"k8s.io/apimachinery/pkg/util/runtime.logPanic(0x15e2ba0, 0x22e29c0)",
	"\t/home/runner/go/pkg/mod/k8s.io/apimachinery@v0.19.2/pkg/util/runtime/runtime.go:74 +0xa6",
	"k8s.io/apimachinery/pkg/util/runtime.HandleCrash(0x0, 0x0, 0x0)",
	"\t/home/runner/go/pkg/mod/k8s.io/apimachinery@v0.19.2/pkg/util/runtime/runtime.go:48 +0x86",
	"panic(0x15e2ba0, 0x22e29c0)",
	"\t/opt/hostedtoolcache/go/1.16.4/x64/src/runtime/panic.go:965 +0x1b9",
	"example.com/op/pkg/kube.(*logsReader).GetLogs(0xc0004d2f40, 0x0)",
	"\t/src/op/pkg/kube/logs.go:35 +0x1c5",
	"example.com/op/pkg/scan.(*Scanner).Run(0xc000222000)",
	"\t/src/op/pkg/scan/scanner.go:90 +0x2a",
];

describe("the program frame a finding names", () => {
	it("is below the panic(…) frame, not in the handler that logged the panic", () => {
		expect(programFrameEvidence(logged)).toEqual([
			"program frame: example.com/op/pkg/kube.(*logsReader).GetLogs (/src/op/pkg/kube/logs.go:35) in goroutine 552",
		]);
	});

	it("is below the panic(…) frame when a deferred call recovered and panicked again with the value", () => {
		// bcicen/ctop#279's shape: the handler's re-panic is fatal, the index was out of range below.
		const repanic = [
			"panic: runtime error: index out of range [1] with length 0 [recovered]",
			"\tpanic: runtime error: index out of range [1] with length 0",
			"",
			"goroutine 1 [running]:",
			"main.panicExit()",
			"\t/src/ctop/main.go:137 +0x6e",
			"panic(0xb280e0, 0xc0000ac8b8)",
			"\t/usr/lib/go/src/runtime/panic.go:965 +0x1b9",
			"github.com/bcicen/ctop/cwidgets/single.(*Env).Set(0xc0001fb1f0, 0xc0005500a0, 0x4a)",
			"\t/src/ctop/cwidgets/single/env.go:32 +0x399",
			"main.main()",
			"\t/src/ctop/main.go:120 +0x1c",
		];
		expect(programFrameEvidence(repanic)).toEqual([
			"program frame: github.com/bcicen/ctop/cwidgets/single.(*Env).Set (/src/ctop/cwidgets/single/env.go:32) in goroutine 1",
		]);
	});

	it("is the top one when a deferred call panicked anew (a chain of two values)", () => {
		const chain = [
			"panic: first [recovered]",
			"\tpanic: runtime error: invalid memory address or nil pointer dereference",
			"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x48f1a4]",
			"",
			...logged.slice(1),
		];
		expect(programFrameEvidence(chain)).toEqual([
			"program frame: k8s.io/apimachinery/pkg/util/runtime.logPanic (/home/runner/go/pkg/mod/k8s.io/apimachinery@v0.19.2/pkg/util/runtime/runtime.go:74) in goroutine 552",
		]);
	});
});
