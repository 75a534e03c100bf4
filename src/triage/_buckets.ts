import type { Goroutine } from "../traceback/index.js";

/**
 * How alike two goroutines must be to share a bucket: `exact` compares argument values as printed,
 * `pointers` treats any two Go pointers as equal, and any two values Go marked with `?` as
 * possibly inaccurate (Go 1.18+: stale registers), `values` ignores argument values altogether.
 * At every level goroutines that differ only in wait minutes or in their parent goroutine merge.
 */
export type Similarity = "exact" | "pointers" | "values";

/** The similarity levels, for option parsing. */
export const SIMILARITIES: readonly Similarity[] = ["exact", "pointers", "values"];

/** Goroutines that share a state and a stack. */
export interface Bucket {
	/** The first goroutine seen with this stack; the others differ at most as the level allows. */
	goroutine: Goroutine;
	count: number;
	ids: number[];
	/** Smallest and largest wait minutes seen, or null when none was printed. */
	waitMinutes: { min: number; max: number } | null;
	/** Ids of the goroutines that created these goroutines. */
	parents: number[];
	/** True when the bucket holds the goroutine that crashed. */
	crashed: boolean;
}

/** Most goroutine ids a bucket keeps; the count goes on past that. */
const MAX_IDS = 100_000;
/** Most distinct parent goroutine ids a bucket keeps. */
const MAX_PARENTS = 16;

/** Groups goroutines into buckets while they stream in, in time linear in their number. */
export class GoroutineBuckets {
	readonly #similarity: Similarity;
	readonly #byKey = new Map<string, Bucket>();

	constructor(similarity: Similarity) {
		this.#similarity = similarity;
	}

	/** Adds one goroutine; `crashed` marks the goroutine that caused the crash. */
	add(goroutine: Goroutine, crashed = false): void {
		const key = goroutineKey(goroutine, this.#similarity);
		let bucket = this.#byKey.get(key);
		if (bucket === undefined) {
			bucket = { goroutine, count: 0, ids: [], waitMinutes: null, parents: [], crashed: false };
			this.#byKey.set(key, bucket);
		}
		bucket.count++;
		bucket.crashed ||= crashed;
		if (bucket.ids.length < MAX_IDS) bucket.ids.push(goroutine.id);
		const minutes = goroutine.waitMinutes;
		if (minutes !== null) {
			const range = bucket.waitMinutes;
			if (range === null) bucket.waitMinutes = { min: minutes, max: minutes };
			else {
				range.min = Math.min(range.min, minutes);
				range.max = Math.max(range.max, minutes);
			}
		}
		const parent = goroutine.createdBy?.goroutine;
		if (parent != null && bucket.parents.length < MAX_PARENTS && !bucket.parents.includes(parent)) {
			bucket.parents.push(parent);
		}
	}

	/** The buckets: the crashed one first, then by size, then in order of first appearance. */
	buckets(): Bucket[] {
		const list = [...this.#byKey.values()];
		return list
			.map((bucket, order) => ({ bucket, order }))
			.sort(
				(a, b) =>
					Number(b.bucket.crashed) - Number(a.bucket.crashed) ||
					b.bucket.count - a.bucket.count ||
					a.order - b.order,
			)
			.map(({ bucket }) => bucket);
	}
}

/** Groups a list of goroutines at once; the first one is taken as the crashed one if `crashed`. */
export function bucketGoroutines(
	goroutines: readonly Goroutine[],
	similarity: Similarity,
	crashed = false,
): Bucket[] {
	const buckets = new GoroutineBuckets(similarity);
	goroutines.forEach((g, i) => {
		buckets.add(g, crashed && i === 0);
	});
	return buckets.buckets();
}

// Within one program a function lives in one file, so a frame is keyed by its function and line
// alone: the path, often the longest part, would only make the key slower to hash.
function goroutineKey(g: Goroutine, similarity: Similarity): string {
	let key = similarity === "exact" ? g.stateText.replace(/, \d+ minutes/, "") : g.state;
	if (g.lockedToThread) key += "\nL";
	if (g.stackUnavailable) key += "\nU";
	for (const frame of g.frames) {
		const args = frame.args === null ? "" : normalizeArgs(frame.args, similarity);
		key += `\n${frame.function}(${args}):${frame.line}`;
	}
	for (const e of g.elided) key += `\n...${e.index}:${e.count ?? "?"}`;
	const createdBy = g.createdBy?.frame;
	if (createdBy !== undefined) key += `\ncreated by ${createdBy.function}:${createdBy.line}`;
	return key;
}

const anyValue = /0x[0-9a-f]+|-?\d+/g;

function normalizeArgs(args: string, similarity: Similarity): string {
	switch (similarity) {
		case "exact":
			return args;
		case "pointers":
			return maskPointers(args);
		case "values":
			return args.replace(anyValue, "_");
	}
}

/** Replaces each Go pointer, and each value Go marked `?`, with `*`; runs on every frame. */
function maskPointers(args: string): string {
	let at = args.indexOf("0x");
	let masked = "";
	let from = 0;
	while (at >= 0) {
		let end = at + 2;
		while (end < args.length && isHexDigit(args.charCodeAt(end))) end++;
		if (end > at + 2 && (args.charCodeAt(end) === 0x3f /* ? */ || isGoPointer(args, at, end))) {
			masked += `${args.slice(from, at)}*`;
			from = end;
		}
		at = args.indexOf("0x", end);
	}
	return from === 0 ? args : masked + args.slice(from);
}

function isHexDigit(c: number): boolean {
	return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
}

// Go heaps, goroutine stacks, mmaps and PIE images of 64-bit programs all live above 4 GiB and
// below 2^48: heap arenas start at 0x00c0<<32 (0x0040<<32 on arm64, runtime/malloc.go
// mallocinit) and go1.26 randomises the heap base across that range. Non-PIE code and data lie
// below 4 GiB; their addresses are compared as printed. So a 1 s duration (0x3b9aca00) stays a
// number, while a duration over 4.3 s counts as a pointer too.
function isGoPointer(args: string, at: number, end: number): boolean {
	if (end - at < 11 || end - at > 14) return false;
	const value = Number.parseInt(args.slice(at + 2, end), 16);
	return value >= 0x1_0000_0000 && value < 0x1_0000_0000_0000;
}
