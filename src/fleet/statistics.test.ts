import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AttributeCount, correlate, crossCorrelate, upperTail } from "./index.js";

const choose = (n: number, k: number): bigint => {
	let r = 1n;
	for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
	return r;
};
/** P(X ≥ x) for the hypergeometric distribution, exactly, as the digits of a fraction. */
function exactTail(x: number, N: number, K: number, n: number): { num: bigint; den: bigint } {
	let num = 0n;
	for (let k = Math.max(x, 0); k <= Math.min(K, n); k++) num += choose(K, k) * choose(N - K, n - k);
	return { num, den: choose(N, n) };
}
const log10 = (v: bigint): number => {
	const s = v.toString();
	return Math.log10(Number(`0.${s.slice(0, 17)}`)) + s.length;
};
const row = (attribute: string, value: string, count: number): AttributeCount => ({
	attribute,
	value,
	count,
});

describe("upperTail (one-sided Fisher's exact test)", () => {
	it("gives the tea-tasting table 3/1/1/3 p = 17/70 = 0.2429", () => {
		expect(upperTail(3, 8, 4, 4)).toBeCloseTo(17 / 70, 12);
		const [c] = correlate(
			{ total: 4, counts: [row("a", "x", 3)] },
			{ total: 4, counts: [row("a", "x", 1)] },
			{ minCount: 1, maxQ: 1 },
		);
		expect(c?.p).toBeCloseTo(0.242857, 6);
		expect(c?.inBucket).toBe(0.75);
		expect(c?.inReference).toBe(0.25);
		expect(c?.effect).toBeCloseTo(Math.log2((3.5 * 3.5) / (1.5 * 1.5)), 12);
	});

	it("gives 10 of 10 against 0 of 10 p = 1/C(20,10)", () => {
		expect(upperTail(10, 20, 10, 10)).toBeCloseTo(1 / 184756, 15);
		expect(upperTail(0, 20, 10, 10)).toBe(1);
		expect(upperTail(11, 20, 10, 10)).toBe(0);
	});

	it("agrees with the exact fraction on either side of the mode", () => {
		fc.assert(
			fc.property(fc.integer({ min: 1, max: 120 }), fc.nat(), fc.nat(), fc.nat(), (N, k, m, x) => {
				const K = k % (N + 1);
				const n = m % (N + 1);
				const at = x % (Math.min(K, n) + 2);
				const { num, den } = exactTail(at, N, K, n);
				const p = upperTail(at, N, K, n);
				expect(p).toBeGreaterThanOrEqual(0);
				expect(p).toBeLessThanOrEqual(1);
				const want = Number((num * 10n ** 18n) / den) / 1e18;
				expect(Math.abs(p - want)).toBeLessThan(1e-12);
			}),
		);
	});

	it("keeps the digits of a tiny p instead of rounding it to 0", () => {
		// 60 of 60 bucket crashes against 40 of 940 reference ones: p = C(100,60)/C(1000,60) ≈ 1e-64.
		const p = upperTail(60, 1000, 100, 60);
		const { num, den } = exactTail(60, 1000, 100, 60);
		const want = log10(num) - log10(den);
		expect(want).toBeLessThan(-50);
		expect(Math.log10(p)).toBeCloseTo(want, 8);
		// Far in the tail, not one term: 150 of 200 against 100 of 10000.
		const q = upperTail(150, 10200, 250, 200);
		const exact = exactTail(150, 10200, 250, 200);
		expect(q).toBeGreaterThan(0);
		expect(Math.log10(q)).toBeCloseTo(log10(exact.num) - log10(exact.den), 6);
	});
});

describe("correlate", () => {
	it("adjusts by Benjamini-Hochberg over every tested value and orders by q", () => {
		const bucket = { total: 20, counts: [row("a", "x", 12), row("a", "y", 8), row("b", "z", 5)] };
		const reference = {
			total: 200,
			counts: [row("a", "x", 20), row("a", "y", 30), row("b", "z", 25)],
		};
		const found = correlate(bucket, reference, { maxQ: 1 });
		const ps = ["x", "y", "z"].map((v) => {
			const c = bucket.counts.find((r) => r.value === v)?.count ?? 0;
			const ref = reference.counts.find((r) => r.value === v)?.count ?? 0;
			return upperTail(c, 220, c + ref, 20);
		});
		// BH by hand: sorted p ascending, q_i = min over j ≥ i of p_j·m/j.
		const order = [0, 1, 2].sort((i, j) => (ps[i] ?? 0) - (ps[j] ?? 0));
		const q: number[] = [];
		let running = 1;
		for (let r = 2; r >= 0; r--) {
			const i = order[r] ?? 0;
			running = Math.min(running, ((ps[i] ?? 0) * 3) / (r + 1));
			q[i] = running;
		}
		expect(found.map((c) => c.value)).toEqual(order.map((i) => ["x", "y", "z"][i]));
		for (const c of found) {
			const i = ["x", "y", "z"].indexOf(c.value);
			expect(c.p).toBeCloseTo(ps[i] ?? -1, 14);
			expect(c.q).toBeCloseTo(q[i] ?? -1, 14);
			expect(c.q).toBeGreaterThanOrEqual(c.p);
		}
		for (let i = 1; i < found.length; i++)
			expect(found[i]?.q).toBeGreaterThanOrEqual(found[i - 1]?.q ?? 0);
	});

	it("tests only values seen minCount times, and counts a less common one in the correction", () => {
		const reference = {
			total: 100,
			counts: [row("a", "x", 5), row("a", "rare", 0), row("a", "less", 90)],
		};
		const base = correlate({ total: 10, counts: [row("a", "x", 6)] }, reference, { maxQ: 1 });
		const withRare = correlate(
			{ total: 10, counts: [row("a", "x", 6), row("a", "rare", 2)] },
			reference,
			{ maxQ: 1 },
		);
		expect(withRare).toEqual(base);
		expect(
			correlate({ total: 10, counts: [row("a", "rare", 2)] }, reference, {
				maxQ: 1,
				minCount: 2,
			}).map((c) => c.value),
		).toEqual(["rare"]);
		const withLess = correlate(
			{ total: 10, counts: [row("a", "x", 6), row("a", "less", 3)] },
			reference,
			{ maxQ: 1 },
		);
		expect(withLess.map((c) => c.value)).toEqual(["x"]);
		expect(withLess[0]?.q).toBeCloseTo(Math.min(1, (base[0]?.q ?? 0) * 2), 12);
	});

	it("reports only q ≤ maxQ (default 0.05)", () => {
		const found = correlate(
			{ total: 4, counts: [row("a", "x", 3)] },
			{ total: 4, counts: [row("a", "x", 1)] },
		);
		expect(found).toEqual([]);
	});

	it("finds a planted value first among noise: 100% of the bucket and 1% of the reference above 60% against 50%", () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 20, max: 400 }),
				fc.integer({ min: 200, max: 20000 }),
				fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }),
				(n, m, noise) => {
					const bucket = [
						row("preempted", "main.victim", n),
						row("region", "eu", Math.round(n * 0.6)),
					];
					const reference = [
						row("preempted", "main.victim", Math.round(m * 0.01)),
						row("region", "eu", Math.round(m * 0.5)),
					];
					// Noise: values as common in the bucket as in the reference.
					noise.forEach((rate, i) => {
						bucket.push(row("host", `h${i}`, Math.round(n * rate)));
						reference.push(row("host", `h${i}`, Math.round(m * rate)));
					});
					const found = correlate(
						{ total: n, counts: bucket },
						{ total: m, counts: reference },
						{ maxQ: 1 },
					);
					expect(found[0]?.value).toBe("main.victim");
					const eu = found.findIndex((c) => c.value === "eu");
					if (eu >= 0) expect(eu).toBeGreaterThan(0);
					for (const c of found) {
						expect(c.p).toBeGreaterThanOrEqual(0);
						expect(c.p).toBeLessThanOrEqual(1);
						expect(c.q).toBeGreaterThanOrEqual(c.p);
						expect(c.q).toBeLessThanOrEqual(1);
						expect(c.inBucket).toBeGreaterThan(c.inReference);
					}
				},
			),
		);
	});

	it("keeps p within [0, 1] for any counts, even inconsistent ones", () => {
		fc.assert(
			fc.property(fc.nat(500), fc.nat(5000), fc.nat(700), fc.nat(7000), (n, m, a, c) => {
				for (const x of correlate(
					{ total: n, counts: [row("a", "x", a)] },
					{ total: m, counts: [row("a", "x", c)] },
					{ minCount: 0, maxQ: 1 },
				)) {
					expect(x.p).toBeGreaterThanOrEqual(0);
					expect(x.p).toBeLessThanOrEqual(1);
					expect(Number.isFinite(x.effect)).toBe(true);
				}
			}),
		);
	});
});

describe("crossCorrelate", () => {
	const b = Array.from({ length: 120 }, (_, t) => Math.sin(t / 4) * 5 + ((t * 7) % 11));
	it.each([-6, -1, 0, 3, 9])("finds a series shifted by %i at that lag with r = 1", (k) => {
		// a[t] = b[t − k]: a follows b by k hours.
		const a = b.map((_, t) => b[t - k] ?? 0);
		const lags = crossCorrelate(a, b, 12);
		expect(lags.map((l) => l.lag)).toEqual(Array.from({ length: 25 }, (_, i) => i - 12));
		const best = lags.reduce((x, y) => (y.r > x.r ? y : x));
		expect(best.lag).toBe(k);
		expect(best.n).toBe(120 - Math.abs(k));
		// The first |k| values of `a` are padding, so r is 1 over the pairs where both are real.
		const real = crossCorrelate(a.slice(Math.max(k, 0)), b.slice(Math.max(k, 0)), 12).find(
			(l) => l.lag === k,
		);
		expect(real?.r ?? 0).toBeGreaterThan(0.95);
	});

	it("gives r = 0 for a constant series instead of NaN", () => {
		expect(crossCorrelate([1, 1, 1, 1], [1, 2, 3, 4], 1).map((l) => l.r)).toEqual([0, 0, 0]);
	});
});
