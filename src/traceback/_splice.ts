import { isDigit } from "./_classify.js";

// Another thread writing to the same stream can land in the middle of a line the Go runtime is
// printing piece by piece: `goroutine 20c-logger: tick 2782` + `\n` + ` [select]:`. Such foreign
// lines repeat one shape (`c-logger: tick #`), so shapes of unplaced lines are learned as the
// text streams by, and a line that ends with a learned shape is cut there and joined to the next.

/** Times a shape must be seen as a whole unplaced line before it counts as foreign. */
const LEARN_AFTER = 8;
/** Most shapes followed at once. */
const MAX_SHAPES = 8;
/** Most distinct candidate shapes counted. */
const MAX_CANDIDATES = 1024;
/** A shape needs this much literal text before its first number to be recognised in a line. */
const MIN_LITERAL = 4;

const digits = /\d+/g;

/** Learns the shapes of repeated foreign lines and finds them spliced into other lines. */
export class ForeignLines {
	readonly #counts = new Map<string, number>();
	/** Each shape with its text before the first number and after the last one. */
	readonly #shapes: { shape: string; literal: string; tail: string }[] = [];
	/** The last two characters of lines that can end with a learned shape, as {@link ending}s. */
	readonly #endings = new Set<number>();

	/** Records one unplaced line. */
	learn(line: string): void {
		if (this.#shapes.length >= MAX_SHAPES || line.length > 200) return;
		const shape = line.replace(digits, "#");
		const first = shape.indexOf("#");
		if (first < MIN_LITERAL) return;
		// A line holding a known foreign line is a splice of it, not a new shape.
		if (this.#shapes.some((s) => shape.includes(s.literal))) return;
		const count = (this.#counts.get(shape) ?? 0) + 1;
		if (count === LEARN_AFTER) {
			const tail = shape.slice(shape.lastIndexOf("#") + 1);
			this.#shapes.push({ shape, literal: shape.slice(0, first), tail });
			// A line ends as its shape does, each `#` standing for one or more digits.
			const last = shape.charCodeAt(shape.length - 1);
			const before = shape.charCodeAt(shape.length - 2);
			const lasts = last === HASH ? DIGITS : [last];
			const befores = before === HASH ? DIGITS : last === HASH ? [before, ...DIGITS] : [before];
			for (const b of befores) for (const l of lasts) this.#endings.add(ending(b, l));
			this.#counts.delete(shape);
			return;
		}
		if (this.#counts.size >= MAX_CANDIDATES && !this.#counts.has(shape)) this.#counts.clear();
		this.#counts.set(shape, count);
	}

	/** True when no shape is learned or being counted. */
	get isEmpty(): boolean {
		return this.#shapes.length === 0 && this.#counts.size === 0;
	}

	/** Forgets every shape learned or being counted. */
	forget(): void {
		this.#shapes.length = 0;
		this.#counts.clear();
		this.#endings.clear();
	}

	/** True when `line` as a whole has a learned foreign shape. */
	isForeign(line: string): boolean {
		if (this.#shapes.length === 0) return false;
		const shape = line.replace(digits, "#");
		return this.#shapes.some((s) => s.shape === shape);
	}

	/** The text before a foreign line spliced onto the end of `line`, or null when there is none. */
	spliceHead(line: string): string | null {
		// Cheap tests first: this runs on every line.
		if (this.#shapes.length === 0) return null;
		const last = line.charCodeAt(line.length - 1);
		if (!this.#endings.has(ending(line.charCodeAt(line.length - 2), last))) return null;
		for (const { shape, literal, tail } of this.#shapes) {
			if (tail === "" ? !isDigit(last) : !line.endsWith(tail)) continue;
			// The foreign line is at most four times its shape's length: only that end is searched
			// for its last start, forwards, which costs less than `lastIndexOf` on every line.
			let at = line.indexOf(literal, Math.max(1, line.length - shape.length * 4));
			if (at < 0) continue;
			for (let next = at; next >= 0; next = line.indexOf(literal, next + 1)) at = next;
			if (line.slice(at).replace(digits, "#") === shape) return line.slice(0, at);
		}
		return null;
	}
}

const HASH = 0x23;
const DIGITS = Array.from({ length: 10 }, (_, i) => 0x30 + i);

/** A key for the last two characters of a line. */
function ending(before: number, last: number): number {
	return (before << 16) | last;
}
