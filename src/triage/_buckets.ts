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

/** Most buckets compared one by one under one hash before exact string keys take over. */
const MAX_CHAIN = 8;

/** A bucket with what its goroutines are compared by. */
interface Entry {
	bucket: Bucket;
	/** The state as compared at this level (wait minutes removed). */
	state: string;
	/** The frames' argument lists as compared at this level (pointers masked, values blanked). */
	args: string[];
}

/**
 * Groups goroutines into buckets while they stream in, in time linear in their number.
 *
 * Hashing whole stacks as strings costs more than parsing them, so a goroutine is hashed from a
 * few characters of each function name, its line and its (normalised) arguments, and compared
 * field by field with the buckets under that hash. Should many different stacks share a hash,
 * the goroutines that find no match among the first {@link MAX_CHAIN} are grouped by their full
 * text instead, so the time stays linear whatever the input.
 */
export class GoroutineBuckets {
	readonly #similarity: Similarity;
	readonly #byHash = new Map<number, Entry[]>();
	readonly #byKey = new Map<string, Entry>();
	readonly #order: Bucket[] = [];

	constructor(similarity: Similarity) {
		this.#similarity = similarity;
	}

	/** Adds one goroutine; `crashed` marks the goroutine that caused the crash. */
	add(goroutine: Goroutine, crashed = false): void {
		const similarity = this.#similarity;
		const state =
			similarity === "exact" ? goroutine.stateText.replace(/, \d+ minutes/, "") : goroutine.state;
		const args = goroutine.frames.map((f) =>
			f.args === null ? "" : normalizeArgs(f.args, similarity),
		);
		const hash = stackHash(goroutine, state, args);
		let chain = this.#byHash.get(hash);
		let entry = chain?.find((e) => sameStack(e, goroutine, state, args));
		if (entry === undefined) {
			const fresh = { bucket: newBucket(goroutine), state, args };
			if (chain === undefined) {
				chain = [];
				this.#byHash.set(hash, chain);
			}
			if (chain.length < MAX_CHAIN) {
				chain.push(fresh);
				entry = fresh;
			} else {
				const key = goroutineKey(goroutine, state, args);
				entry = this.#byKey.get(key);
				if (entry === undefined) {
					entry = fresh;
					this.#byKey.set(key, entry);
				}
			}
			if (entry === fresh) this.#order.push(fresh.bucket);
		}
		const bucket = entry.bucket;
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
		return this.#order
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

function newBucket(goroutine: Goroutine): Bucket {
	return { goroutine, count: 0, ids: [], waitMinutes: null, parents: [], crashed: false };
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

// Within one program a function lives in one file, so frames are told apart by their function
// and line alone; the path, often the longest part, is left out.
function sameStack(entry: Entry, g: Goroutine, state: string, args: readonly string[]): boolean {
	const r = entry.bucket.goroutine;
	if (
		entry.state !== state ||
		r.lockedToThread !== g.lockedToThread ||
		r.stackUnavailable !== g.stackUnavailable ||
		r.frames.length !== g.frames.length ||
		r.elided.length !== g.elided.length
	) {
		return false;
	}
	for (let i = 0; i < g.frames.length; i++) {
		const a = r.frames[i];
		const b = g.frames[i];
		if (a?.function !== b?.function || a?.line !== b?.line || entry.args[i] !== args[i])
			return false;
	}
	for (let i = 0; i < g.elided.length; i++) {
		if (r.elided[i]?.index !== g.elided[i]?.index || r.elided[i]?.count !== g.elided[i]?.count)
			return false;
	}
	const a = r.createdBy?.frame;
	const b = g.createdBy?.frame;
	return a?.function === b?.function && a?.line === b?.line;
}

function stackHash(g: Goroutine, state: string, args: readonly string[]): number {
	let h = mix(sampleHash(state), (g.lockedToThread ? 1 : 0) | (g.stackUnavailable ? 2 : 0));
	g.frames.forEach((frame, i) => {
		h = mix(mix(mix(h, sampleHash(frame.function)), frame.line ?? -1), fullHash(args[i] ?? ""));
	});
	for (const e of g.elided) h = mix(mix(h, e.index), e.count ?? -1);
	const created = g.createdBy?.frame;
	if (created !== undefined) h = mix(mix(h, sampleHash(created.function)), created.line ?? -1);
	return h;
}

function mix(h: number, value: number): number {
	const x = Math.imul(h ^ value, 0x01000193);
	return x ^ (x >>> 15);
}

/** Hashes the length and a few characters, the last ones most: function names differ at the end. */
function sampleHash(text: string): number {
	const n = text.length;
	let h = mix(n, text.charCodeAt(0));
	for (let i = Math.max(1, n - 6); i < n; i++) h = mix(h, text.charCodeAt(i));
	return mix(h, text.charCodeAt(n >> 1));
}

function fullHash(text: string): number {
	let h = text.length;
	for (let i = 0; i < text.length; i++) h = mix(h, text.charCodeAt(i));
	return h;
}

/** The full text of what {@link sameStack} compares, for hashes that too many stacks share. */
function goroutineKey(g: Goroutine, state: string, args: readonly string[]): string {
	let key = state;
	if (g.lockedToThread) key += "\nL";
	if (g.stackUnavailable) key += "\nU";
	g.frames.forEach((frame, i) => {
		key += `\n${frame.function}(${args[i]}):${frame.line}`;
	});
	for (const e of g.elided) key += `\n...${e.index}:${e.count ?? "?"}`;
	const createdBy = g.createdBy?.frame;
	if (createdBy !== undefined) key += `\ncreated by ${createdBy.function}:${createdBy.line}`;
	return key;
}

// A value and its `?` mark (Go 1.18+: possibly inaccurate) both go.
const anyValue = /(?:0x[0-9a-f]+|-?\d+)\??/g;

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
