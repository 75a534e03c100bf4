import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inferEnvironment } from "../diagnose/index.js";
import { parseCrashes } from "../traceback/index.js";
import {
	correlate,
	crashAttributes,
	crossCorrelate,
	signCrash,
	signRace,
	upperTail,
} from "./index.js";

const FIXTURES = join(import.meta.dirname, "../../test/fixtures");
const read = (path: string): string => readFileSync(join(FIXTURES, path), "utf8");
const crashOf = (text: string) => {
	const crash = parseCrashes(text).crashes[0];
	if (crash === undefined) throw new Error("no crash");
	return crash;
};
const toolchains = readdirSync(join(FIXTURES, "crashes")).filter((d) => d.startsWith("go"));

describe("signCrash", () => {
	it("signs every real fixture, and one scenario the same on every toolchain of an arch", () => {
		const byScenario = new Map<string, Set<string>>();
		for (const dir of toolchains)
			for (const name of readdirSync(join(FIXTURES, "crashes", dir)).filter((n) =>
				n.endsWith(".txt"),
			)) {
				const result = parseCrashes(read(join("crashes", dir, name)));
				for (const crash of result.crashes) {
					const s = signCrash(crash);
					expect(s.id).toMatch(/^[0-9a-f]{16}$/);
					expect(s.why.length).toBeGreaterThan(1);
				}
				for (const race of result.races) expect(signRace(race).reason).toBe("DATA RACE");
				const first = result.crashes[0];
				if (first === undefined) continue;
				const key = `${dir.endsWith("arm64") ? "arm64" : "amd64"}/${name}`;
				const ids = byScenario.get(key) ?? new Set();
				ids.add(signCrash(first).id);
				byScenario.set(key, ids);
			}
		// Not concurrent-map-writes: which of its two writers the runtime catches differs by run.
		const stable = [
			"nil-pointer.txt",
			"index-out-of-range.txt",
			"custom-error.txt",
			"slice-bounds.txt",
			"type-assertion.txt",
		];
		for (const arch of ["amd64", "arm64"])
			for (const name of stable)
				expect(byScenario.get(`${arch}/${name}`)?.size, `${arch}/${name}`).toBe(1);
	});

	it("tells different crashes apart", () => {
		const ids = [
			"nil-pointer",
			"index-out-of-range",
			"concurrent-map-writes",
			"divide-by-zero",
			"deadlock",
		].map((n) => signCrash(crashOf(read(`crashes/go1.26.10-amd64/${n}.txt`))).id);
		expect(new Set(ids).size).toBe(5);
	});

	it("ignores ids, addresses, argument values and line numbers", () => {
		const text = read("crashes/go1.26.10-amd64/nil-pointer.all.txt");
		const changed = text
			.replace(/0x[0-9a-f]{6,}/g, (h) => `0x${(Number.parseInt(h, 16) + 0x1230).toString(16)}`)
			.replace(/goroutine (\d+)/g, (_, n) => `goroutine ${Number(n) + 7}`)
			.replace(/\.go:(\d+)/g, (_, n) => `.go:${Number(n) + 3}`);
		expect(signCrash(crashOf(changed))).toEqual(signCrash(crashOf(text)));
	});

	it("groups split-SP unwinder crashes by the preempted victim, whichever way the unwinder failed", () => {
		const dir = join(FIXTURES, "diagnose/split-sp");
		const signatures = readdirSync(dir)
			.filter((n) => n.endsWith(".txt"))
			.map((n) => signCrash(crashOf(readFileSync(join(dir, n), "utf8"))));
		expect(signatures.length).toBe(6);
		for (const s of signatures) {
			expect(s.frames).toEqual(["main.big_stack"]);
			expect(s.title).toBe("unwinder failure: goroutine preempted in main.big_stack");
		}
		expect(new Set(signatures.map((s) => s.id)).size).toBe(1);
	});
});

describe("crashAttributes", () => {
	it("names the preempted victim and the text's environment", () => {
		const result = parseCrashes(read("diagnose/split-sp/go1.24.4-arm64-non-leaf.txt"));
		const crash = result.crashes[0];
		if (crash === undefined) throw new Error("no crash");
		const attrs = crashAttributes(crash, inferEnvironment(result, []));
		expect(attrs).toContainEqual(["preempted", "main.big_stack"]);
		expect(attrs).toContainEqual(["goarch", "arm64"]);
		expect(new Set(attrs.map((a) => a.join("="))).size).toBe(attrs.length);
	});

	it("names the top program function of each running goroutine", () => {
		const result = parseCrashes(read("crashes/go1.26.10-amd64/nil-pointer.txt"));
		const crash = result.crashes[0];
		if (crash === undefined) throw new Error("no crash");
		expect(crashAttributes(crash, inferEnvironment(result, []))).toContainEqual([
			"running",
			"main.(*config).listenPort",
		]);
	});
});

describe("correlate", () => {
	it("computes Fisher's exact test: the tea-tasting table", () => {
		// 3 of 4 in the bucket have the value, 1 of 4 in the reference: one-sided p = 17/70.
		const [c] = correlate(
			{ total: 4, counts: [{ attribute: "a", value: "x", count: 3 }] },
			{ total: 4, counts: [{ attribute: "a", value: "x", count: 1 }] },
			{ minCount: 1, maxQ: 1 },
		);
		expect(c?.p).toBeCloseTo(17 / 70, 10);
		expect(c?.inBucket).toBe(0.75);
		expect(c?.inReference).toBe(0.25);
		expect(c?.effect).toBeCloseTo(Math.log2((3.5 * 3.5) / (1.5 * 1.5)), 10);
	});

	it("keeps tiny p-values above zero where they can be told apart", () => {
		expect(upperTail(60, 1000, 100, 60)).toBeGreaterThan(0);
		expect(upperTail(60, 1000, 100, 60)).toBeLessThan(1e-50);
		expect(upperTail(0, 10, 3, 4)).toBeCloseTo(1, 12);
	});

	it("puts a value in every bucket item and few others above one a little more common", () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 20, max: 400 }),
				fc.integer({ min: 200, max: 5000 }),
				(n, m) => {
					const found = correlate(
						{
							total: n,
							counts: [
								{ attribute: "preempted", value: "victim", count: n },
								{ attribute: "region", value: "eu", count: Math.round(n * 0.6) },
							],
						},
						{
							total: m,
							counts: [
								{ attribute: "preempted", value: "victim", count: Math.round(m * 0.01) },
								{ attribute: "region", value: "eu", count: Math.round(m * 0.5) },
							],
						},
						{ maxQ: 1 },
					);
					expect(found[0]?.value).toBe("victim");
					for (const c of found) {
						expect(c.p).toBeGreaterThanOrEqual(0);
						expect(c.p).toBeLessThanOrEqual(1);
						expect(c.q).toBeGreaterThanOrEqual(c.p);
					}
				},
			),
		);
	});

	it("tests only values seen often enough and more often than in the reference", () => {
		const found = correlate(
			{
				total: 10,
				counts: [
					{ attribute: "a", value: "rare", count: 2 },
					{ attribute: "a", value: "less", count: 1 },
				],
			},
			{ total: 10, counts: [{ attribute: "a", value: "less", count: 9 }] },
			{ maxQ: 1 },
		);
		expect(found).toEqual([]);
	});
});

describe("crossCorrelate", () => {
	it("finds a series in another shifted by k hours at lag k", () => {
		const a = Array.from({ length: 100 }, (_, i) => Math.sin(i / 3) + (i % 7));
		const b = [...a.slice(5), 0, 0, 0, 0, 0];
		const lags = crossCorrelate(b, a, 10);
		const best = lags.reduce((x, y) => (y.r > x.r ? y : x));
		expect(best.lag).toBe(-5);
		expect(best.r).toBeCloseTo(1, 10);
	});
});
