import pmf from "@stdlib/stats-base-dists-hypergeometric-pmf";
import padjust from "@stdlib/stats-padjust";

/** How many items of a set have an attribute value. */
export interface AttributeCount {
	readonly attribute: string;
	readonly value: string;
	readonly count: number;
}

/** Attribute value counts over a set of items (crashes, or host-hours) and the set's size. */
export interface CountTable {
	readonly total: number;
	readonly counts: readonly AttributeCount[];
}

/** One attribute value over-represented in a bucket against a reference. */
export interface Correlation {
	readonly attribute: string;
	readonly value: string;
	/** Fraction of the bucket's items with the value. */
	readonly inBucket: number;
	/** Fraction of the reference's items with the value. */
	readonly inReference: number;
	/** Bucket items with the value. */
	readonly count: number;
	/** Reference items with the value. */
	readonly referenceCount: number;
	/** One-sided Fisher's exact test: the chance of at least `count` bucket items with the value under independence. */
	readonly p: number;
	/** `p` after the Benjamini-Hochberg correction over every value tested. */
	readonly q: number;
	/** log2 of the odds ratio, with 0.5 added to each cell (Haldane-Anscombe), so it is finite for empty cells. */
	readonly effect: number;
}

/** What `correlate` tests and reports. */
export interface CorrelateOptions {
	/** Values seen fewer times in the bucket are not tested (default 3). */
	readonly minCount?: number;
	/** Only values with q at most this are reported (default 0.05). */
	readonly maxQ?: number;
}

/**
 * P(X ≥ x) for X hypergeometric (population N, K of them marked, n drawn): Fisher's one-sided
 * exact test. Above the mode the tail is summed upwards from x (each term from the last by the
 * pmf ratio), so a tiny p keeps its digits instead of vanishing in 1 − cdf; at or below the mode
 * the tail holds the mode's mass and 1 − (the lower tail) loses nothing. Always within [0, 1].
 */
export function upperTail(x: number, N: number, K: number, n: number): number {
	const lo = Math.max(0, n + K - N);
	const hi = Math.min(K, n);
	if (x <= lo) return 1;
	if (x > hi) return 0;
	const mode = Math.floor(((n + 1) * (K + 1)) / (N + 2));
	let sum = 0;
	if (x > mode) {
		let term = pmf(x, N, K, n);
		for (let k = x; k <= hi && term > 0; k++) {
			sum += term;
			if (term < sum * 1e-17) break;
			// P(k+1)/P(k) for the hypergeometric distribution.
			term *= ((K - k) * (n - k)) / ((k + 1) * (N - K - n + k + 1));
		}
		return clamp01(sum);
	}
	let term = pmf(x - 1, N, K, n);
	for (let k = x - 1; k >= lo && term > 0; k--) {
		sum += term;
		if (term < sum * 1e-17) break;
		// P(k-1)/P(k).
		term *= (k * (N - K - n + k)) / ((K - k + 1) * (n - k + 1));
	}
	return clamp01(1 - sum);
}

function clamp01(p: number): number {
	return Number.isNaN(p) ? 1 : Math.min(1, Math.max(0, p));
}

/** A count as a whole number of items: negative, fractional parts and non-numbers dropped. */
const wholeCount = (n: number): number => (Number.isFinite(n) ? Math.max(0, Math.floor(n)) : 0);

const keyOf = (c: AttributeCount): string => `${c.attribute}\0${c.value}`;

/** Counts by attribute value, repeated rows added up, each kept within the table's total. */
function countsByValue(table: CountTable): Map<string, AttributeCount> {
	const out = new Map<string, AttributeCount>();
	for (const c of table.counts) {
		const key = keyOf(c);
		const count = wholeCount(c.count) + (out.get(key)?.count ?? 0);
		out.set(key, { attribute: c.attribute, value: c.value, count: Math.min(count, table.total) });
	}
	return out;
}

/**
 * The attribute values over-represented in a bucket against a reference (which must not hold the
 * bucket's items), strongest first: q ascending, then effect descending. Every value seen at
 * least `minCount` times in the bucket is tested and counts in the correction, also those that
 * turn out less common in the bucket than in the reference; only the more common ones are returned.
 */
export function correlate(
	bucket: CountTable,
	reference: CountTable,
	options: CorrelateOptions = {},
): Correlation[] {
	const minCount = options.minCount ?? 3;
	const maxQ = options.maxQ ?? 0.05;
	const bucketTotal = wholeCount(bucket.total);
	const referenceTotal = wholeCount(reference.total);
	if (bucketTotal === 0) return [];
	const inReference = countsByValue({ total: referenceTotal, counts: reference.counts });
	const N = bucketTotal + referenceTotal;
	const tested: Omit<Correlation, "q">[] = [];
	for (const [key, c] of countsByValue({ total: bucketTotal, counts: bucket.counts })) {
		const a = c.count;
		if (a < minCount || a === 0) continue;
		const ref = inReference.get(key)?.count ?? 0;
		const b = bucketTotal - a;
		const d = referenceTotal - ref;
		tested.push({
			attribute: c.attribute,
			value: c.value,
			inBucket: a / bucketTotal,
			inReference: referenceTotal > 0 ? ref / referenceTotal : 0,
			count: a,
			referenceCount: ref,
			p: upperTail(a, N, a + ref, bucketTotal),
			effect: Math.log2(((a + 0.5) * (d + 0.5)) / ((b + 0.5) * (ref + 0.5))),
		});
	}
	if (tested.length === 0) return [];
	const q = padjust(
		tested.map((t) => t.p),
		"bh",
	);
	return tested
		.map((t, i) => ({ ...t, q: clamp01(q[i] ?? 1) }))
		.filter((t) => t.inBucket > t.inReference && t.q <= maxQ)
		.sort(
			(x, y) =>
				x.q - y.q ||
				y.effect - x.effect ||
				x.p - y.p ||
				(x.attribute === y.attribute
					? compare(x.value, y.value)
					: compare(x.attribute, y.attribute)),
		);
}

const compare = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** Pearson's r of a[t] against b[t − lag], with how many pairs it was computed from. */
export interface LagCorrelation {
	readonly lag: number;
	readonly r: number;
	readonly n: number;
}

/**
 * Pearson correlation of a[t] with b[t − lag] for lag in −maxLag..maxLag (equal-length series,
 * e.g. per-hour counts; a longer one is cut to the shorter): a peak at a positive lag means `a`
 * follows `b`. r is 0 where it is undefined (fewer than 3 pairs, or a constant series).
 */
export function crossCorrelate(
	a: readonly number[],
	b: readonly number[],
	maxLag: number,
): LagCorrelation[] {
	const out: LagCorrelation[] = [];
	const length = Math.min(a.length, b.length);
	const most = Number.isFinite(maxLag) ? Math.max(0, Math.floor(maxLag)) : 0;
	for (let lag = -most; lag <= most; lag++) {
		const xs: number[] = [];
		const ys: number[] = [];
		for (let t = Math.max(0, lag); t < length && t - lag < length; t++) {
			xs.push(a[t] ?? 0);
			ys.push(b[t - lag] ?? 0);
		}
		out.push({ lag, r: pearson(xs, ys), n: xs.length });
	}
	return out;
}

function pearson(xs: readonly number[], ys: readonly number[]): number {
	const n = xs.length;
	if (n < 3) return 0;
	let mx = 0;
	let my = 0;
	for (let i = 0; i < n; i++) {
		mx += xs[i] ?? 0;
		my += ys[i] ?? 0;
	}
	mx /= n;
	my /= n;
	let sxy = 0;
	let sxx = 0;
	let syy = 0;
	for (let i = 0; i < n; i++) {
		const dx = (xs[i] ?? 0) - mx;
		const dy = (ys[i] ?? 0) - my;
		sxy += dx * dy;
		sxx += dx * dx;
		syy += dy * dy;
	}
	if (sxx === 0 || syy === 0) return 0;
	return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}
