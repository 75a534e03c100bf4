import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { listCrashFixtures } from "../../test/_fixtures.js";
import { type Goroutine, parseCrashes } from "../traceback/index.js";
import { bucketGoroutines, firstGoroutineCrashed, SIMILARITIES, type Similarity } from "./index.js";

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
					const holding = buckets.filter((b) =>
						b.ids.some((id) => id !== null && ids.includes(id)),
					);
					expect(holding).toHaveLength(1);
					expect([...(holding[0]?.ids ?? [])].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
						[...ids].sort((a, b) => a - b),
					);
					const parents = new Set(ids.map((id) => parentIds[String(id)]));
					expect(holding[0]?.parents.length).toBe(printsParents ? parents.size : 0);
				}
			}
		},
	);
});

/** A goroutine dump with one goroutine per stack given as [function, args, line] frames. */
function dump(stacks: { state?: string; frames: [string, string, number][]; parent?: number }[]) {
	const text = stacks
		.map(({ state = "chan receive", frames, parent }, i) => {
			const lines = [`goroutine ${i + 1} [${state}]:`];
			for (const [fn, args, line] of frames)
				lines.push(`${fn}(${args})`, `\t/src/app/x.go:${line} +0x1d`);
			if (parent !== undefined)
				lines.push(`created by main.start in goroutine ${parent}`, "\t/src/app/main.go:9 +0x20");
			return lines.join("\n");
		})
		.join("\n\n");
	return parseCrashes(`${text}\n`).crashes[0]?.goroutines ?? [];
}

const groups = (similarity: Similarity, goroutines: Goroutine[]) =>
	bucketGoroutines(goroutines, similarity)
		.map((b) => [...b.ids].sort((x, y) => (x ?? 0) - (y ?? 0)))
		.sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0));

describe("what counts as the same stack", () => {
	const stacks = dump([
		{ frames: [["main.f", "0xc000012345, 0x1", 10]] },
		{ frames: [["main.f", "0xc000099999, 0x1", 10]] }, // another Go pointer
		{ frames: [["main.f", "0xc000012345, 0x2", 10]] }, // another small value
		{ frames: [["main.f", "0x5?, 0x1", 10]] }, // a value Go marked as possibly inaccurate
		{ frames: [["main.f", "0x7?, 0x1", 10]] },
		{ frames: [["main.f", "0xc000012345, 0x1", 11]] }, // another line
		{ state: "chan receive, 5 minutes", frames: [["main.f", "0xc000012345, 0x1", 10]], parent: 3 },
		{ state: "chan receive, 9 minutes", frames: [["main.f", "0xc000012345, 0x1", 10]], parent: 4 },
	]);

	test("exact: arguments as printed; wait minutes and parents do not count", () => {
		expect(groups("exact", stacks)).toEqual([[1], [2], [3], [4], [5], [6], [7, 8]]);
	});

	test("pointers: any two Go pointers and any two '?' values are equal", () => {
		expect(groups("pointers", stacks)).toEqual([[1, 2], [3], [4, 5], [6], [7, 8]]);
	});

	test("values: argument values ignored", () => {
		expect(groups("values", stacks)).toEqual([[1, 2, 3, 4, 5], [6], [7, 8]]);
	});
});

describe("stacks whose hashes collide", () => {
	// Function names of one length that differ only in the middle share most of their hash.
	const name = (i: number) => `main.handler${String(i).padStart(6, "0")}_do_the_work`;

	test("thousands of distinct stacks under few hashes each get their own bucket", () => {
		const stacks = Array.from({ length: 3000 }, (_, i) => ({
			frames: [[name(i % 1500), "", 10] as [string, string, number]],
		}));
		const buckets = bucketGoroutines(dump(stacks), "exact");
		expect(buckets).toHaveLength(1500);
		for (const b of buckets) {
			expect(b.count).toBe(2);
			expect((b.ids[1] ?? 0) - (b.ids[0] ?? 0)).toBe(1500);
		}
	});

	test("grouping equals a field-by-field comparison of every pair", () => {
		const frame = fc.tuple(
			fc.nat(40).map(name),
			fc.constantFrom("", "0x1", "0x2", "0xc000012345"),
			fc.constantFrom(10, 11),
		);
		const stack = fc.record({
			state: fc.constantFrom("running", "select", "select, 3 minutes"),
			frames: fc.array(frame, { minLength: 1, maxLength: 3 }),
		});
		fc.assert(
			fc.property(fc.array(stack, { minLength: 1, maxLength: 300 }), (stacks) => {
				const goroutines = dump(stacks);
				const same = (a: Goroutine, b: Goroutine) =>
					a.stateText.replace(/, \d+ minutes/, "") === b.stateText.replace(/, \d+ minutes/, "") &&
					JSON.stringify(a.frames.map((f) => [f.function, f.args, f.line])) ===
						JSON.stringify(b.frames.map((f) => [f.function, f.args, f.line]));
				const expected: (number | null)[][] = [];
				for (const g of goroutines) {
					const group = expected.find((ids) => same(goroutines[(ids[0] ?? 1) - 1] as Goroutine, g));
					if (group === undefined) expected.push([g.id]);
					else group.push(g.id);
				}
				expect(groups("exact", goroutines)).toEqual(expected);
			}),
			{ numRuns: 100 },
		);
	});
});

describe("what a bucket keeps", () => {
	test("of its first goroutine, past the first thousand buckets what the view shows alone", () => {
		const stacks = Array.from({ length: 2000 }, (_, i) => ({
			frames: [["main.f", `0xc000012345, 0x${i.toString(16)}`, 10] as [string, string, number]],
			parent: 7,
		}));
		const goroutines = dump(stacks);
		const buckets = bucketGoroutines(goroutines, "pointers");
		expect(buckets).toHaveLength(2000);
		expect(buckets[0]?.goroutine).toBe(goroutines[0]);
		const place = { package: "main", args: null, file: "/src/app/main.go", line: 9 };
		expect(buckets[1999]?.goroutine).toStrictEqual({
			state: "chan receive",
			stateText: "chan receive",
			scan: false,
			lockedToThread: false,
			stackUnavailable: false,
			frames: [
				{
					function: "main.f",
					package: "main",
					args: "0xc000012345, 0x7cf",
					file: "/src/app/x.go",
					line: 10,
				},
			],
			elided: [],
			createdBy: { frame: { function: "main.start", ...place } },
			ancestors: [],
		});
		expect(buckets[1999]?.parents).toEqual([7]);
	});

	test("in order: the crashed bucket, then the larger, then the first seen", () => {
		const names = ["main.a", "main.b", "main.c", "main.c", "main.d", "main.e", "main.e"];
		const goroutines = dump(names.map((fn) => ({ frames: [[fn, "", 10]] })));
		const order = bucketGoroutines(goroutines, "exact", true).map((b) => b.goroutine.frames[0]);
		expect(order.map((f) => f?.function)).toEqual([
			"main.a",
			"main.c",
			"main.e",
			"main.b",
			"main.d",
		]);
	});
});

describe("the goroutine that crashed", () => {
	const first = (name: string) => {
		const fixture = listCrashFixtures().find((f) => f.name === name);
		const crash = parseCrashes(fixture?.text ?? "").crashes[0];
		return crash === undefined ? undefined : firstGoroutineCrashed(crash);
	};
	test("is the first printed, but in a deadlock, where every goroutine is blocked", () => {
		expect(first("go1.26.10-amd64/nil-pointer")).toBe(true);
		expect(first("go1.26.10-amd64/deadlock")).toBe(false);
		expect(first("go1.26.10-amd64/sigquit")).toBe(false);
	});
});
