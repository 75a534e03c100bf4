import type { CreatedBy, Frame, Goroutine } from "../traceback/index.js";

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

function goroutineKey(g: Goroutine, similarity: Similarity): string {
	const state = similarity === "exact" ? g.stateText.replace(/, \d+ minutes/, "") : g.state;
	const parts = [state, g.lockedToThread ? "L" : "", g.stackUnavailable ? "U" : ""];
	for (const frame of g.frames) parts.push(frameKey(frame, similarity));
	for (const e of g.elided) parts.push(`…${e.index}:${e.count ?? "?"}`);
	parts.push(createdByKey(g.createdBy));
	return parts.join("\n");
}

function frameKey(frame: Frame, similarity: Similarity): string {
	return `${frame.function}(${normalizeArgs(frame.args, similarity)}) ${frame.file}:${frame.line}`;
}

function createdByKey(createdBy: CreatedBy | null): string {
	if (createdBy === null) return "";
	const { frame } = createdBy;
	return `created by ${frame.function} ${frame.file}:${frame.line}`;
}

const hexWord = /0x[0-9a-f]+/g;
const anyValue = /0x[0-9a-f]+|-?\d+/g;

// Argument lists repeat across goroutines (`0x0?, 0x0?`): their normal forms are cached.
const normalized = { pointers: new Map<string, string>(), values: new Map<string, string>() };
const MAX_CACHED = 50_000;

function normalizeArgs(args: string | null, similarity: Similarity): string {
	if (args === null) return "";
	if (similarity === "exact" || !args.includes("0x")) return args;
	const cache = normalized[similarity];
	let result = cache.get(args);
	if (result === undefined) {
		result = normalizeArgsUncached(args, similarity);
		if (cache.size >= MAX_CACHED) cache.clear();
		cache.set(args, result);
	}
	return result;
}

function normalizeArgsUncached(args: string, similarity: Similarity): string {
	switch (similarity) {
		case "exact":
			return args;
		case "pointers":
			return args.replace(hexWord, (word, at: number) =>
				isGoPointer(word) || args.charCodeAt(at + word.length) === 0x3f /* ? */ ? "*" : word,
			);
		case "values":
			return args.replace(anyValue, "_");
	}
}

// Go heaps, goroutine stacks, mmaps and PIE images of 64-bit programs all live above 4 GiB and
// below 2^48: heap arenas start at 0x00c0<<32 (0x0040<<32 on arm64, runtime/malloc.go
// mallocinit) and go1.26 randomises the heap base across that range. Non-PIE code and data lie
// below 4 GiB; their addresses are compared as printed. So a 1 s duration (0x3b9aca00) stays a
// number, while a duration over 4.3 s counts as a pointer too.
function isGoPointer(word: string): boolean {
	if (word.length < 11 || word.length > 14) return false;
	const value = Number.parseInt(word.slice(2), 16);
	return value >= 0x1_0000_0000 && value < 0x1_0000_0000_0000;
}
