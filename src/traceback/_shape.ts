// A prefix the parser has not been told about (a pod and container name, a service padded to
// the longest one, a timestamp whose width varies) is learned from the lines of a report: the
// text before the runtime's own words on its first line, or before a goroutine header on a later
// one. The prefix is kept as a shape, each run of digits inside it matching any run of digits
// and each run of spaces any run of spaces or none, so that it still matches when a counter
// grows or the padding before it changes or is used up.

/** Most characters of a prefix that is learned. */
const MAX_PREFIX = 200;

const DIGITS = -1;
const SPACES = -2;

/** The shape of a line prefix: literal characters, runs of digits and runs of spaces. */
export class PrefixShape {
	/** Character codes, or DIGITS for a run of digits and SPACES for a run of spaces or none. */
	readonly #tokens: number[];
	/** Spaces the prefix ends with: matched exactly, so that indentation after it is kept. */
	readonly #trailing: number;

	private constructor(tokens: number[], trailing: number) {
		this.#tokens = tokens;
		this.#trailing = trailing;
	}

	/**
	 * The shape of `head`, the text before a report on one line; null when it cannot be a
	 * prefix: empty, too long, or nothing but spaces and digits.
	 */
	static of(head: string): PrefixShape | null {
		if (head.length === 0 || head.length > MAX_PREFIX) return null;
		let end = head.length;
		while (end > 0 && head.charCodeAt(end - 1) === 0x20) end--;
		const tokens: number[] = [];
		let literal = false;
		for (let i = 0; i < end; i++) {
			const c = head.charCodeAt(i);
			const token = c >= 0x30 && c <= 0x39 ? DIGITS : c === 0x20 ? SPACES : c;
			if (token >= 0) literal = true;
			if (token < 0 && tokens.at(-1) === token) continue;
			tokens.push(token);
		}
		if (!literal) return null;
		return new PrefixShape(tokens, head.length - end);
	}

	/** The rest of `line` after the prefix, or null when the line does not start with it. */
	strip(line: string): string | null {
		let i = 0;
		for (const token of this.#tokens) {
			if (token === SPACES) {
				while (line.charCodeAt(i) === 0x20) i++;
			} else if (token === DIGITS) {
				const start = i;
				while (isDigit(line.charCodeAt(i))) i++;
				if (i === start) return null;
			} else if (line.charCodeAt(i) === token) {
				i++;
			} else {
				return null;
			}
		}
		// A pipeline may trim the spaces after a prefix from a line left empty.
		if (i === line.length) return "";
		for (let n = 0; n < this.#trailing; n++, i++) if (line.charCodeAt(i) !== 0x20) return null;
		return line.slice(i);
	}
}

function isDigit(c: number): boolean {
	return c >= 0x30 && c <= 0x39;
}
