import type { Ancestor, Crash, Elision, Frame, Goroutine } from "../traceback/index.js";

/**
 * How alike two goroutines must be to share a bucket: `exact` compares argument values as printed,
 * `pointers` treats any two Go pointers as equal, and any two values Go marked with `?` as
 * possibly inaccurate (Go 1.18+: stale registers), `values` ignores argument values altogether.
 * At every level goroutines that differ only in wait minutes or in their parent goroutine merge.
 */
export type Similarity = "exact" | "pointers" | "values";

/** The similarity levels, for option parsing. */
export const SIMILARITIES: readonly Similarity[] = ["exact", "pointers", "values"];

/** What a bucket keeps of a frame: what the grouped view shows and stacks are compared by. */
export type BucketFrame = Pick<Frame, "function" | "package" | "args" | "file" | "line">;

/**
 * What a bucket keeps of its first goroutine: the fields of {@link Goroutine} that the grouped
 * view shows and goroutines are compared by. The first {@link KEEP_WHOLE} buckets keep the
 * goroutine itself; the others a copy of these fields alone, frames cut to {@link BucketFrame}s,
 * since a dump of 100k stacks makes as many buckets, and parsed frames cost several times their
 * text.
 */
export interface BucketGoroutine {
	state: string;
	stateText: string;
	scan: boolean;
	lockedToThread: boolean;
	stackUnavailable: boolean;
	frames: readonly BucketFrame[];
	elided: readonly Elision[];
	/** The `created by` line; the parents' ids are the bucket's `parents`. */
	createdBy: { frame: BucketFrame } | null;
	ancestors: readonly Ancestor[];
}

/** Goroutines that share a state and a stack. */
export interface Bucket {
	/** The first goroutine seen with this stack; the others differ at most as the level allows. */
	goroutine: BucketGoroutine;
	count: number;
	/** Null for a goroutine Go printed no id for (see Goroutine). */
	ids: (number | null)[];
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

/** Buckets of a crash that keep their first goroutine whole: quicker than a copy, and few. */
const KEEP_WHOLE = 1000;

/** Most buckets compared one by one under one hash before exact string keys take over. */
const MAX_CHAIN = 8;

/** A bucket with the state its goroutines are compared by (wait minutes removed). */
interface Entry {
	bucket: Bucket;
	state: string;
}

/**
 * Groups goroutines into buckets while they stream in, in time linear in their number.
 *
 * Hashing whole stacks as strings costs more than parsing them, so a goroutine is hashed from a
 * few characters of each function name, its line and its arguments (values the level ignores
 * skipped in place, never rewritten into new strings), and compared field by field with the
 * buckets under that hash. Should many different stacks share a hash, the goroutines that find
 * no match among the first {@link MAX_CHAIN} are grouped by their full text instead, so the time
 * stays linear whatever the input.
 */
export class GoroutineBuckets {
	readonly #similarity: Similarity;
	readonly #byHash = new Map<number, Entry[]>();
	readonly #byKey = new Map<string, Entry>();
	readonly #order: Bucket[] = [];
	/** Names, files and states the buckets keep, each kept once (see {@link #keep}). */
	readonly #texts = new Map<string, string>();

	constructor(similarity: Similarity) {
		this.#similarity = similarity;
	}

	/** Adds one goroutine; `crashed` marks the goroutine that caused the crash. */
	add(goroutine: Goroutine, crashed = false): void {
		const similarity = this.#similarity;
		const state =
			similarity === "exact" ? goroutine.stateText.replace(/, \d+ minutes/, "") : goroutine.state;
		const hash = stackHash(goroutine, state, similarity);
		const chain = this.#byHash.get(hash);
		const entry = chain === undefined ? undefined : findStack(chain, goroutine, state, similarity);
		if (entry !== undefined) {
			join(entry.bucket, goroutine, crashed);
			return;
		}
		const key =
			chain === undefined || chain.length < MAX_CHAIN
				? null
				: goroutineKey(goroutine, state, similarity);
		const keyed = key === null ? undefined : this.#byKey.get(key);
		if (keyed !== undefined) {
			join(keyed.bucket, goroutine, crashed);
			return;
		}
		const parent = goroutine.createdBy?.goroutine;
		const minutes = goroutine.waitMinutes;
		const fresh = {
			bucket: {
				goroutine: this.#order.length < KEEP_WHOLE ? goroutine : this.#keep(goroutine),
				count: 1,
				ids: [goroutine.id],
				waitMinutes: minutes === null ? null : { min: minutes, max: minutes },
				parents: parent == null ? [] : [parent],
				crashed,
			},
			state,
		};
		if (chain === undefined) this.#byHash.set(hash, [fresh]);
		else if (key === null) chain.push(fresh);
		else this.#byKey.set(key, fresh);
		this.#order.push(fresh.bucket);
	}

	/** The buckets: the crashed one first, then by size, then in order of first appearance. */
	buckets(): Bucket[] {
		// The sort is stable: buckets that tie stay in the order they first appeared.
		return this.#order
			.slice()
			.sort((a, b) => Number(b.crashed) - Number(a.crashed) || b.count - a.count);
	}

	// A parsed frame's strings may be views into a whole chunk of the input (see copied): the
	// arguments are copied, and the buckets keep one of each name, file and state, so that only
	// the first of each holds on to its chunk.
	#keep(g: Goroutine): BucketGoroutine {
		const frame = (f: Frame): BucketFrame => ({
			function: this.#text(f.function),
			package: this.#text(f.package),
			args: f.args === null ? null : copied(f.args),
			file: f.file === null ? null : this.#text(f.file),
			line: f.line,
		});
		return {
			state: this.#text(g.state),
			stateText: this.#text(g.stateText),
			scan: g.scan,
			lockedToThread: g.lockedToThread,
			stackUnavailable: g.stackUnavailable,
			frames: g.frames.map(frame),
			elided: g.elided.length === 0 ? NONE : g.elided,
			createdBy: g.createdBy === null ? null : { frame: frame(g.createdBy.frame) },
			ancestors: g.ancestors.length === 0 ? NONE : g.ancestors,
		};
	}

	#text(text: string): string {
		const kept = this.#texts.get(text);
		if (kept !== undefined) return kept;
		this.#texts.set(text, text);
		return text;
	}
}

/**
 * A copy of `text` that holds none of the string it may be a slice of: V8 makes a slice of 13
 * characters or more a view into its parent, here a whole chunk of the input, and a string
 * joined from others a new one once it is sliced.
 */
function copied(text: string): string {
	return ` ${text}`.slice(1);
}

/** The empty list every bucket without elisions or ancestors shares. */
const NONE: readonly never[] = [];

/** Counts one more goroutine in a bucket. */
function join(bucket: Bucket, goroutine: Goroutine, crashed: boolean): void {
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

/**
 * Whether the first goroutine printed is the one that crashed: always, but in a dump (SIGQUIT)
 * and in a deadlock (runtime/proc.go checkdead: `all goroutines are asleep - deadlock!`, `no
 * goroutines (main called runtime.Goexit) - deadlock!`), where every goroutine is blocked.
 */
export function firstGoroutineCrashed(crash: Pick<Crash, "kind" | "signal" | "fatal">): boolean {
	if (crash.kind === "dump") return false;
	if (crash.fatal?.endsWith(" - deadlock!")) return false;
	return !(crash.kind === "signal" && crash.signal?.name === "SIGQUIT");
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

function findStack(
	chain: readonly Entry[],
	g: Goroutine,
	state: string,
	similarity: Similarity,
): Entry | undefined {
	for (const entry of chain) if (sameStack(entry, g, state, similarity)) return entry;
	return undefined;
}

// Within one program a function lives in one file, so frames are told apart by their function
// and line alone; the path, often the longest part, is left out.
function sameStack(entry: Entry, g: Goroutine, state: string, similarity: Similarity): boolean {
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
		if (a === undefined || b === undefined) return false;
		if (a.function !== b.function || a.line !== b.line) return false;
		if (!sameArgs(a.args ?? "", b.args ?? "", similarity)) return false;
	}
	for (let i = 0; i < g.elided.length; i++) {
		if (r.elided[i]?.index !== g.elided[i]?.index || r.elided[i]?.count !== g.elided[i]?.count)
			return false;
	}
	const a = r.createdBy?.frame;
	const b = g.createdBy?.frame;
	return a?.function === b?.function && a?.line === b?.line;
}

function stackHash(g: Goroutine, state: string, similarity: Similarity): number {
	let h = mix(sampleHash(state), (g.lockedToThread ? 1 : 0) | (g.stackUnavailable ? 2 : 0));
	for (const frame of g.frames) {
		h = mix(mix(h, sampleHash(frame.function)), frame.line ?? -1);
		h = hashArgs(h, frame.args ?? "", similarity);
	}
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

/** The full text of what {@link sameStack} compares, for hashes that too many stacks share. */
function goroutineKey(g: Goroutine, state: string, similarity: Similarity): string {
	let key = state;
	if (g.lockedToThread) key += "\nL";
	if (g.stackUnavailable) key += "\nU";
	for (const frame of g.frames)
		key += `\n${frame.function}(${normalizeArgs(frame.args ?? "", similarity)}):${frame.line}`;
	for (const e of g.elided) key += `\n...${e.index}:${e.count ?? "?"}`;
	const createdBy = g.createdBy?.frame;
	if (createdBy !== undefined) key += `\ncreated by ${createdBy.function}:${createdBy.line}`;
	return key;
}

// Argument lists are compared as literal text and values the level ignores: at `pointers` each
// Go pointer and each value Go marked `?` (Go 1.18+: possibly inaccurate), at `values` every
// number. nextIgnored finds the next such value without building a string.

/** End of the value found by the last {@link nextIgnored} call. */
let ignoredEnd = 0;

/**
 * Start of the first value at or after `from` that the level ignores, or `args.length` when
 * there is none; the value's end is left in {@link ignoredEnd}.
 */
function nextIgnored(args: string, from: number, similarity: Similarity): number {
	if (similarity === "pointers") {
		let at = args.indexOf("0x", from);
		while (at >= 0) {
			let end = at + 2;
			while (end < args.length && isHexDigit(args.charCodeAt(end))) end++;
			if (end > at + 2 && (args.charCodeAt(end) === 0x3f /* ? */ || isGoPointer(args, at, end))) {
				ignoredEnd = end;
				return at;
			}
			at = args.indexOf("0x", end);
		}
	} else if (similarity === "values") {
		// Any number, hex or decimal, with its `?` mark.
		for (let at = from; at < args.length; at++) {
			let end = at;
			const c = args.charCodeAt(at);
			if (c === 0x30 && args.charCodeAt(at + 1) === 0x78 && isHexDigit(args.charCodeAt(at + 2))) {
				end = at + 3;
				while (isHexDigit(args.charCodeAt(end))) end++;
			} else if (isDigit(c) || (c === 0x2d /* - */ && isDigit(args.charCodeAt(at + 1)))) {
				end = at + 1;
				while (isDigit(args.charCodeAt(end))) end++;
			} else continue;
			ignoredEnd = args.charCodeAt(end) === 0x3f ? end + 1 : end;
			return at;
		}
	}
	ignoredEnd = args.length;
	return args.length;
}

function sameArgs(a: string, b: string, similarity: Similarity): boolean {
	if (a === b) return true;
	let i = 0;
	let j = 0;
	for (;;) {
		const atA = nextIgnored(a, i, similarity);
		const endA = ignoredEnd;
		const atB = nextIgnored(b, j, similarity);
		const length = atA - i;
		if (atB - j !== length) return false;
		for (let k = 0; k < length; k++) if (a.charCodeAt(i + k) !== b.charCodeAt(j + k)) return false;
		if (atA === a.length || atB === b.length) return atA === a.length && atB === b.length;
		i = endA;
		j = ignoredEnd;
	}
}

function hashArgs(hash: number, args: string, similarity: Similarity): number {
	let h = mix(hash, args.length === 0 ? 0 : 1);
	let from = 0;
	for (;;) {
		const at = nextIgnored(args, from, similarity);
		for (let i = from; i < at; i++) h = mix(h, args.charCodeAt(i));
		if (at === args.length) return h;
		h = mix(h, -1);
		from = ignoredEnd;
	}
}

/** The argument list as compared at the level, ignored values shown as `*` or `_`. */
function normalizeArgs(args: string, similarity: Similarity): string {
	const mark = similarity === "values" ? "_" : "*";
	let text = "";
	let from = 0;
	for (;;) {
		const at = nextIgnored(args, from, similarity);
		text += args.slice(from, at);
		if (at === args.length) return text;
		text += mark;
		from = ignoredEnd;
	}
}

function isDigit(c: number): boolean {
	return c >= 0x30 && c <= 0x39;
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
	// 9 to 12 hex digits without leading zeros: at least 2^32 and below 2^48.
	let first = at + 2;
	while (first < end && args.charCodeAt(first) === 0x30) first++;
	const digits = end - first;
	return end - at <= 14 && digits >= 9 && digits <= 12;
}
