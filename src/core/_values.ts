import { type GoBinary, symbolizePC } from "../binary/index.js";
import { CoreError, hex } from "./_error.js";
import type { CoreGoroutine } from "./_goroutines.js";
import type { Memory } from "./_memory.js";

/** What a word of the process (a register, a stack word) points at, where gocrash can tell. */
export type ValueTarget =
	| {
			readonly kind: "code";
			readonly function: string;
			readonly offset: number;
			readonly file: string;
			readonly line: number;
	  }
	| {
			readonly kind: "stack";
			readonly goroutine: number;
			/** The address minus the stack's low end, g.stack.lo. */
			readonly offset: number;
			/** The function whose frame holds the address, when the unwind reached it. */
			readonly frame: string | undefined;
	  }
	| { readonly kind: "g"; readonly goroutine: number };

/** One register of the thread that took the signal, and what its value points at. */
export interface RegisterValue {
	readonly name: string;
	readonly value: bigint;
	readonly target: ValueTarget;
}

/** One word of a goroutine's stack. */
export interface StackWord {
	readonly address: number;
	readonly value: bigint;
	/** The frame whose SP is this word's address, innermost first. */
	readonly frameSP: string | undefined;
	readonly target: ValueTarget | undefined;
}

/** The words of one goroutine's stack around its SP. */
export interface StackWords {
	readonly goroutine: number;
	readonly sp: number;
	readonly words: readonly StackWord[];
}

/**
 * Names what the signalled thread's registers and one goroutine's stack words point at: the
 * binary's code, a goroutine's stack (and, where the frames are at hand, the frame holding the
 * address), or a goroutine's g. It sees the goroutines one at a time as the core is scanned, so
 * that it keeps little of each: their stack bounds and g addresses only when stack words are asked.
 */
export class ValueNamer {
	readonly #bin: GoBinary;
	readonly #bias: number;
	readonly #mem: Memory;
	// Each register with its value as a number (undefined past 2^53: no address is), compared with
	// every goroutine of the scan.
	readonly #registers: {
		readonly name: string;
		readonly value: bigint;
		readonly address: number | undefined;
		target: ValueTarget | undefined;
	}[];
	readonly #wanted: { readonly goroutine: number; readonly count: number } | undefined;
	#words:
		| { readonly g: CoreGoroutine; readonly raw: readonly Omit<StackWord, "target">[] }
		| undefined;
	readonly #gs = new Map<number, number>();
	readonly #stacks: { lo: number; hi: number; id: number }[] = [];

	constructor(
		bin: GoBinary,
		bias: number,
		mem: Memory,
		registers: readonly (readonly [string, bigint])[],
		wanted: { readonly goroutine: number; readonly count: number } | undefined,
	) {
		this.#bin = bin;
		this.#bias = bias;
		this.#mem = mem;
		this.#registers = registers.map(([name, value]) => ({
			name,
			value,
			address: value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined,
			target: undefined,
		}));
		this.#wanted = wanted;
	}

	/** Takes in one goroutine of the scan. */
	see(g: CoreGoroutine): void {
		for (const r of this.#registers) {
			const v = r.address;
			if (r.target !== undefined || v === undefined) continue;
			if (v === g.gp) r.target = { kind: "g", goroutine: g.id };
			else if (v >= g.stackLo && v < g.stackHi) r.target = stackTarget(g, v);
		}
		if (this.#wanted === undefined) return;
		this.#gs.set(g.gp, g.id);
		if (g.stackHi > g.stackLo) this.#stacks.push({ lo: g.stackLo, hi: g.stackHi, id: g.id });
		if (g.id === this.#wanted.goroutine && this.#words === undefined)
			this.#words = { g, raw: readWords(this.#mem, g, this.#wanted.count) };
	}

	/** The registers that point somewhere, and the stack words asked for; once every goroutine is seen. */
	result(): { registerValues: RegisterValue[]; stackWords: StackWords | undefined } {
		const registerValues = this.#registers.flatMap(({ name, value, target }) => {
			const t = target ?? this.#code(value, false);
			return t === undefined ? [] : [{ name, value, target: t }];
		});
		if (this.#wanted === undefined) return { registerValues, stackWords: undefined };
		const words = this.#words;
		if (words === undefined)
			throw new CoreError("malformed", `The core has no goroutine ${this.#wanted.goroutine}`, 0);
		this.#stacks.sort((a, b) => a.lo - b.lo);
		return {
			registerValues,
			stackWords: {
				goroutine: words.g.id,
				sp: words.g.frames[0]?.sp ?? 0,
				words: words.raw.map((w) => ({ ...w, target: this.#word(w.value, words.g) })),
			},
		};
	}

	// A stack word: a goroutine's g, a place in a stack (with the frame when it is the stack's own
	// goroutine), else code; a code address on a stack is most often a return address, so its line
	// is the call's, as in a traceback.
	#word(value: bigint, own: CoreGoroutine): ValueTarget | undefined {
		if (value === 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
		const v = Number(value);
		const g = this.#gs.get(v);
		if (g !== undefined) return { kind: "g", goroutine: g };
		if (v >= own.stackLo && v < own.stackHi) return stackTarget(own, v);
		const s = this.#stackOf(v);
		if (s !== undefined)
			return { kind: "stack", goroutine: s.id, offset: v - s.lo, frame: undefined };
		return this.#code(value, true);
	}

	#code(value: bigint, call: boolean): ValueTarget | undefined {
		if (value === 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
		const at = symbolizePC(this.#bin, Number(value) - this.#bias, call);
		if (at === undefined) return undefined;
		return { kind: "code", function: at.function, offset: at.offset, file: at.file, line: at.line };
	}

	#stackOf(addr: number): { lo: number; hi: number; id: number } | undefined {
		const stacks = this.#stacks;
		let lo = 0;
		let hi = stacks.length - 1;
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			const s = stacks[mid] as { lo: number; hi: number; id: number };
			if (addr < s.lo) hi = mid - 1;
			else if (addr >= s.hi) lo = mid + 1;
			else return s;
		}
		return undefined;
	}
}

function stackTarget(g: CoreGoroutine, addr: number): ValueTarget {
	return { kind: "stack", goroutine: g.id, offset: addr - g.stackLo, frame: frameHolding(g, addr) };
}

// Frames run from the innermost (lowest SP) outwards: the address is in the outermost frame whose
// SP is at or below it.
function frameHolding(g: CoreGoroutine, addr: number): string | undefined {
	let holder: string | undefined;
	for (const f of g.frames) {
		if (f.inlined) continue;
		if (f.sp > addr) break;
		holder = f.function;
	}
	return holder;
}

/**
 * `runtime.raise+0x21 runtime/sys_linux_amd64.s:154`, `stack of goroutine 7, in the frame of
 * main.f`, `g of goroutine 1`.
 */
export function formatTarget(t: ValueTarget): string {
	switch (t.kind) {
		case "code":
			return `${t.function}+${hex(t.offset)} ${t.file}:${t.line}`;
		case "stack":
			return t.frame === undefined
				? `stack of goroutine ${t.goroutine} (lo+${hex(t.offset)})`
				: `stack of goroutine ${t.goroutine}, in the frame of ${t.frame}`;
		case "g":
			return `g of goroutine ${t.goroutine}`;
	}
}

const wordsBelowSP = 4;

// `count` words of `g`'s stack from a few below its innermost SP upwards, as far as the stack goes,
// each with the frame whose SP it is.
function readWords(mem: Memory, g: CoreGoroutine, count: number): Omit<StackWord, "target">[] {
	const top = g.frames[0];
	if (top === undefined)
		throw new CoreError(
			"malformed",
			`Goroutine ${g.id}'s stack could not be unwound: no SP to start from`,
			0,
		);
	const frameAt = new Map<number, string>();
	for (const f of g.frames) if (!f.inlined && !frameAt.has(f.sp)) frameAt.set(f.sp, f.function);
	const start = Math.max(g.stackLo, top.sp - wordsBelowSP * 8);
	const end = Math.min(g.stackHi, start + count * 8);
	const words: Omit<StackWord, "target">[] = [];
	for (let a = start; a < end; a += 8) {
		const value = mem.u64(a, `goroutine ${g.id}'s stack word at ${hex(a)}`);
		words.push({ address: a, value, frameSP: frameAt.get(a) });
	}
	return words;
}
