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

/** Tells what process addresses point at: the binary's code, a goroutine's stack, a goroutine's g. */
export class ValueNamer {
	readonly #bin: GoBinary;
	readonly #bias: number;
	readonly #stacks: readonly CoreGoroutine[];
	readonly #gs: ReadonlyMap<number, number>;

	constructor(bin: GoBinary, bias: number, goroutines: readonly CoreGoroutine[]) {
		this.#bin = bin;
		this.#bias = bias;
		this.#stacks = goroutines
			.filter((g) => g.stackHi > g.stackLo)
			.sort((a, b) => a.stackLo - b.stackLo);
		this.#gs = new Map(goroutines.map((g) => [g.gp, g.id]));
	}

	/**
	 * What `value` points at, or undefined when it is none of those. A code address found on a
	 * stack is most often a return address (`call`): its line is then the call's, as in a traceback.
	 */
	name(value: number | bigint, call = false): ValueTarget | undefined {
		if (typeof value === "bigint") {
			if (value > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
			value = Number(value);
		}
		if (value === 0) return undefined;
		const g = this.#gs.get(value);
		if (g !== undefined) return { kind: "g", goroutine: g };
		const s = this.#stackOf(value);
		if (s !== undefined)
			return {
				kind: "stack",
				goroutine: s.id,
				offset: value - s.stackLo,
				frame: frameHolding(s, value),
			};
		const at = symbolizePC(this.#bin, value - this.#bias, call);
		if (at === undefined) return undefined;
		return { kind: "code", function: at.function, offset: at.offset, file: at.file, line: at.line };
	}

	#stackOf(addr: number): CoreGoroutine | undefined {
		const stacks = this.#stacks;
		let lo = 0;
		let hi = stacks.length - 1;
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			const s = stacks[mid] as CoreGoroutine;
			if (addr < s.stackLo) hi = mid - 1;
			else if (addr >= s.stackHi) lo = mid + 1;
			else return s;
		}
		return undefined;
	}
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

/**
 * Reads `count` words of goroutine `id`'s stack from a few below its innermost SP upwards, as far
 * as the stack goes, each with what it points at and which frame's SP it is.
 */
export function readStackWords(
	mem: Memory,
	namer: ValueNamer,
	goroutines: readonly CoreGoroutine[],
	id: number,
	count: number,
): StackWords {
	const g = goroutines.find((x) => x.id === id);
	if (g === undefined) throw new CoreError("malformed", `The core has no goroutine ${id}`, 0);
	const top = g.frames[0];
	if (top === undefined)
		throw new CoreError(
			"malformed",
			`Goroutine ${id}'s stack could not be unwound: no SP to start from`,
			0,
		);
	const frameAt = new Map<number, string>();
	for (const f of g.frames) if (!f.inlined && !frameAt.has(f.sp)) frameAt.set(f.sp, f.function);
	const start = Math.max(g.stackLo, top.sp - wordsBelowSP * 8);
	const end = Math.min(g.stackHi, start + count * 8);
	const words: StackWord[] = [];
	for (let a = start; a < end; a += 8) {
		const b = mem.read(a, 8, `goroutine ${id}'s stack word at ${hex(a)}`);
		const value = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
		words.push({ address: a, value, frameSP: frameAt.get(a), target: namer.name(value, true) });
	}
	return { goroutine: id, sp: top.sp, words };
}
