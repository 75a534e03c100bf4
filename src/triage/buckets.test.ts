import { describe, expect, test } from "vitest";
import { listCrashFixtures } from "../../test/_fixtures.js";
import { parseCrashes } from "../traceback/index.js";
import { bucketGoroutines, SIMILARITIES } from "./index.js";

// crashgen's many-goroutines starts 5 parent goroutines that start 200 goroutines in 4 stack
// shapes, and knows which goroutine has which shape and parent (meta `expect.groups`, `createdBy`).
const dumps = listCrashFixtures().filter(
	(f) =>
		f.meta.scenario === "many-goroutines" &&
		f.meta.gotraceback !== "single" &&
		f.meta.expect !== null,
);

describe("buckets of real goroutine dumps", () => {
	test("there are dumps to group", () => {
		expect(dumps.length).toBeGreaterThanOrEqual(14);
	});

	test.each(dumps.map((f) => [f.name, f] as const))(
		"%s: one bucket per stack shape",
		(_, fixture) => {
			const crash = parseCrashes(fixture.text).crashes[0];
			const groups = fixture.meta.expect?.groups ?? {};
			expect(Object.keys(groups)).toHaveLength(5);
			const parentIds = fixture.meta.expect?.createdBy ?? {};
			const printsParents = !/^go1\.(19|20)\./.test(fixture.meta.goVersion);
			for (const similarity of SIMILARITIES) {
				const buckets = bucketGoroutines(crash?.goroutines ?? [], similarity, true);
				expect(buckets[0]?.crashed).toBe(true);
				expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(crash?.goroutines.length);
				if (similarity === "exact") continue;
				// Goroutines of one shape differ only in parent ids, wait minutes and argument values.
				for (const ids of Object.values(groups)) {
					const holding = buckets.filter((b) => b.ids.some((id) => ids.includes(id)));
					expect(holding).toHaveLength(1);
					expect([...(holding[0]?.ids ?? [])].sort((a, b) => a - b)).toEqual(
						[...ids].sort((a, b) => a - b),
					);
					const parents = new Set(ids.map((id) => parentIds[String(id)]));
					expect(holding[0]?.parents.length).toBe(printsParents ? parents.size : 0);
				}
			}
		},
	);
});
