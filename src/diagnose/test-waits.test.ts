import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { builtinRulesDir, loadRules } from "../cli/diagnose.js";
import { parseCrashes } from "../traceback/index.js";
import { collectNotes, diagnose } from "./index.js";

// go test timeouts pasted into public issues (test/fixtures/wild/README.md says where each is from).
const { rules } = await loadRules([builtinRulesDir]);
const wild = (name: string): string =>
	readFileSync(new URL(`../../test/fixtures/wild/${name}.txt`, import.meta.url), "utf8");

function top(text: string) {
	const d = diagnose(parseCrashes(text), { rules, notes: collectNotes(text) });
	return d.findings[0];
}

describe("test-timeout", () => {
	it("names the test goroutine blocked longest, before the runner waiting for it", () => {
		const f = top(wild("go-test-timeout-waitgroup"));
		expect(f).toMatchObject({ id: "test-timeout", confidence: "confirmed" });
		const named = f?.evidence.filter((e) => e.startsWith("goroutine ")) ?? [];
		expect(named.slice(-2)).toEqual([
			"goroutine 3444 [semacquire, 2 minutes]: semacquire for 2 minutes in sync.(*WaitGroup).Wait (/workdir/go/src/sync/waitgroup.go:130), test sync_test.TestWaitGroupMisuse3",
			"goroutine 1 [chan receive, 2 minutes]: chan receive for 2 minutes in testing.(*T).Run (/workdir/go/src/testing/testing.go:1006): the test runner waiting for its test to finish",
		]);
		expect(f?.steps[0]).toMatch(/^Start with goroutine 3444: it waits \(semacquire\) in sync/);
	});

	it("puts goroutines that waited under a minute after those that waited minutes", () => {
		const f = top(wild("go-test-timeout-circleci"));
		expect(f).toMatchObject({ id: "test-timeout", confidence: "confirmed" });
		const named = f?.evidence.filter((e) => /^goroutine \d+ \[/.test(e) && e.includes("]: "));
		expect(named?.map((e) => e.split(" [")[0])).toEqual(["goroutine 1", "goroutine 156"]);
		// Goroutine 156 was created by a library constructor, not a test: no test is named for it.
		expect(named?.[1]).not.toMatch(/, test /);
		expect(f?.steps[0]).toMatch(/^No goroutine of the test's own code shows a long wait/);
	});

	it("lists the tests the panic says were running", () => {
		const text = [
			"panic: test timed out after 10m0s",
			"running tests:",
			"\tTestKubernetesClusterHappyPath (10m0s)",
			"\tTestKubernetesClusterHappyPath/happy-path (10m0s)",
			"",
			...wild("go-test-timeout-testmain").split("\n").slice(2),
		].join("\n");
		expect(top(text)?.evidence).toContain(
			"running tests: TestKubernetesClusterHappyPath (10m0s), TestKubernetesClusterHappyPath/happy-path (10m0s)",
		);
	});

	it("is confirmed by the go command's kill message and likely from SIGQUIT amid benchmark output", () => {
		expect(top(wild("go-test-bench-sigquit"))).toMatchObject({
			id: "test-timeout",
			confidence: "confirmed",
		});
		expect(top(wild("teamcity-bench-sigquit"))).toMatchObject({
			id: "test-timeout",
			confidence: "likely",
		});
	});

	it("without the panic line: likely with the alarm goroutine, possible with only the runner", () => {
		const lines = wild("go-test-timeout-waitgroup").split("\n");
		expect(top(lines.slice(2).join("\n"))).toMatchObject({
			id: "test-timeout",
			confidence: "likely",
		});
		const runner = top(lines.slice(8).join("\n"));
		expect(runner).toMatchObject({ id: "test-timeout", confidence: "possible" });
		expect(runner?.evidence).toContain(
			"goroutine 3444 [semacquire, 2 minutes]: semacquire for 2 minutes in sync.(*WaitGroup).Wait (/workdir/go/src/sync/waitgroup.go:130), test sync_test.TestWaitGroupMisuse3",
		);
	});
});
