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

	it("is not a wrapper cgo generated, but the Go code that called it", () => {
		// varnishcache-friends/vago#1, shortened: cgo's pointer check panicked inside a test.
		const cgo = [
			"panic: runtime error: cgo argument has Go pointer to Go pointer [recovered]",
			"\tpanic: runtime error: cgo argument has Go pointer to Go pointer",
			"",
			"goroutine 9 [running]:",
			"panic(0x5594a0, 0xc8202a6540)",
			"\t/usr/local/go/src/runtime/panic.go:464 +0x3e6",
			"testing.tRunner.func1(0xc8200801b0)",
			"\t/usr/local/go/src/testing/testing.go:467 +0x192",
			"panic(0x5594a0, 0xc8202a6540)",
			"\t/usr/local/go/src/runtime/panic.go:426 +0x4e9",
			"github.com/phenomenes/vago._cgoCheckPointer0(0x523340, 0xc820022048, 0xc8202a6530, 0x1, 0x1, 0x512900)",
			"\t??:0 +0x4d",
			"github.com/phenomenes/vago.(*Varnish).Stats(0xc82000a2e0, 0x5cd640)",
			"\t/home/vagrant/workspace/go/src/github.com/phenomenes/vago/vago.go:189 +0x1bd",
		];
		expect(programFrameEvidence(cgo)).toEqual([
			"program frame: github.com/phenomenes/vago.(*Varnish).Stats (/home/vagrant/workspace/go/src/github.com/phenomenes/vago/vago.go:189) in goroutine 9",
		]);
	});

	it("says only what the text has when a cut-off stack shows no program frame", () => {
		const cut = [
			"panic: Log in goroutine after TestNoNewEnemy has completed: no such process",
			"",
			"goroutine 158 [running]:",
			"testing.(*common).logDepth(0xc000106680, {0xc0002f0a98, 0x11}, 0x3)",
			"\t/opt/hostedtoolcache/go/1.17.6/x64/src/testing/testing.go:787 +0x4f6",
			"testing.(*common).Log(...)",
		];
		const d = diagnose(parseCrashes(cut.join("\n")), { rules, notes: [] });
		expect(d.findings[0]?.id).toBe("test-log-after-completion");
		expect(d.findings[0]?.evidence).toContain(
			"no frame of the program's own code in the 2 frames of goroutine 158 that the text has (it is cut off)",
		);
	});
});

describe("the failed assertion a Ginkgo finding names", () => {
	it("is the first frame below Ginkgo's and Gomega's", () => {
		const text = [
			"panic: ",
			"Your test failed.",
			"Ginkgo panics to prevent subsequent assertions from running.",
			"",
			"goroutine 114 [running]:",
			"github.com/onsi/ginkgo/v2.Fail({0xc000320000, 0x44}, {0xc0001a7d38?, 0x1?, 0x1?})",
			"\t/home/u/go/pkg/mod/github.com/onsi/ginkgo/v2@v2.13.0/core_dsl.go:374 +0x1c5",
			"github.com/onsi/gomega/internal.(*Assertion).match(0xc000124d40, {0x1c7e2a0, 0x2a2c1e0}, 0x1, {0x0, 0x0, 0x0})",
			"\t/home/u/go/pkg/mod/github.com/onsi/gomega@v1.29.0/internal/assertion.go:106 +0x1f0",
			"github.com/onsi/gomega/internal.(*Assertion).To(0xc000124d40, {0x1c7e2a0, 0x2a2c1e0}, {0x0, 0x0, 0x0})",
			"\t/home/u/go/pkg/mod/github.com/onsi/gomega@v1.29.0/internal/assertion.go:62 +0xb3",
			"example.com/shop/cart_test.glob..func3.2()",
			"\t/src/shop/cart/cart_test.go:88 +0x11b",
			"created by example.com/shop/cart_test.glob..func3 in goroutine 96",
			"\t/src/shop/cart/cart_test.go:84 +0x9b",
		].join("\n");
		const d = diagnose(parseCrashes(text), { rules, notes: collectNotes(text) });
		expect(d.findings.map((f) => f.id)).toEqual(["ginkgo-assertion-in-goroutine"]);
		expect(d.findings[0]?.evidence).toContain(
			"failed assertion: example.com/shop/cart_test.glob..func3.2 (/src/shop/cart/cart_test.go:88) in goroutine 114",
		);
	});
});
