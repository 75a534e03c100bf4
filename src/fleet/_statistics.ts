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
	/** One-sided Fisher's exact test: the chance of at least `count` under independence. */
	readonly p: number;
	/** `p` after the Benjamini-Hochberg correction over every value tested. */
	readonly q: number;
	/** log2 of the odds ratio, with 0.5 added to each cell (Haldane-Anscombe). */
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
 * P(X ≥ x) for X hypergeometric (population N, K marked, n drawn), summed from the upper tail
 * so that small p-values keep their precision instead of vanishing in 1 − cdf.
 */
export function upperTail(x: number, N: number, K: number, n: number): number {
	const hi = Math.min(K, n);
	let p = 0;
	for (let k = Math.max(x, 0); k <= hi; k++) {
		const term = pmf(k, N, K, n);
		p += term;
		// Terms fall away fast past the mode; stop once they no longer change the sum.
		if (k > x && term < p * 1e-17) break;
	}
	return Math.min(1, Math.max(0, p));
}

/**
 * The attribute values over-represented in a bucket against a reference (which must not hold the
 * bucket's items), strongest first: q ascending, then effect descending.
 */
export function correlate(
	bucket: CountTable,
	reference: CountTable,
	options: CorrelateOptions = {},
): Correlation[] {
	const minCount = options.minCount ?? 3;
	const maxQ = options.maxQ ?? 0.05;
	if (bucket.total <= 0) return [];
	const inReference = new Map(reference.counts.map((c) => [`${c.attribute}\0${c.value}`, c.count]));
	const N = bucket.total + reference.total;
	const tested: Omit<Correlation, "q">[] = [];
	for (const c of bucket.counts) {
		const a = Math.min(c.count, bucket.total);
		if (a < minCount) continue;
		const ref = Math.min(inReference.get(`${c.attribute}\0${c.value}`) ?? 0, reference.total);
		const inB = a / bucket.total;
		const inR = reference.total > 0 ? ref / reference.total : 0;
		if (inB <= inR) continue;
		const b = bucket.total - a;
		const d = reference.total - ref;
		tested.push({
			attribute: c.attribute,
			value: c.value,
			inBucket: inB,
			inReference: inR,
			count: a,
			referenceCount: ref,
			p: upperTail(a, N, a + ref, bucket.total),
			effect: Math.log2(((a + 0.5) * (d + 0.5)) / ((b + 0.5) * (ref + 0.5))),
		});
	}
	if (tested.length === 0) return [];
	const q = padjust(
		tested.map((t) => t.p),
		"bh",
	);
	return tested
		.map((t, i) => ({ ...t, q: q[i] ?? 1 }))
		.filter((t) => t.q <= maxQ)
		.sort((x, y) => x.q - y.q || y.effect - x.effect || (x.attribute < y.attribute ? -1 : 1));
}

/** Pearson's r of a[t] against b[t − lag], with how many pairs it was computed from. */
export interface LagCorrelation {
	readonly lag: number;
	readonly r: number;
	readonly n: number;
}

/** Pearson correlation of two equal-length series (e.g. per-hour counts) at every lag up to `maxLag` each way. */
export function crossCorrelate(
	a: readonly number[],
	b: readonly number[],
	maxLag: number,
): LagCorrelation[] {
	const out: LagCorrelation[] = [];
	const length = Math.min(a.length, b.length);
	for (let lag = -maxLag; lag <= maxLag; lag++) {
		const xs: number[] = [];
		const ys: number[] = [];
		for (let t = Math.max(0, lag); t < length && t - lag < length; t++) {
			xs.push(a[t] as number);
			ys.push(b[t - lag] as number);
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
		mx += xs[i] as number;
		my += ys[i] as number;
	}
	mx /= n;
	my /= n;
	let sxy = 0;
	let sxx = 0;
	let syy = 0;
	for (let i = 0; i < n; i++) {
		const dx = (xs[i] as number) - mx;
		const dy = (ys[i] as number) - my;
		sxy += dx * dy;
		sxx += dx * dx;
		syy += dy * dy;
	}
	return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}
