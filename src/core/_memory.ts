import type { Image } from "../binary/index.js";
import type { CoreFile, CoreLoad, FileMapping } from "./_core-file.js";
import { CoreError, hex } from "./_error.js";

// Core bytes are read in blocks into a fixed set of slots, a block into the slot of its number
// modulo their count: goroutine stacks and g structs of one span sit side by side, so one read
// serves many goroutines, and a core of any size is read with the same 4 MiB of buffers.
const blockSize = 1 << 16;
const slots = 64;

// The largest piece `hold` reads at once.
const maxHeld = 1 << 16;

// Stacks read ahead (see prefetch) are joined into one read when less than this far apart, and
// kept in a buffer of this size.
const prefetchGap = 4 << 10;
const prefetchSize = 2 << 20;

/** What a slot holds: the block number, the segment it was read for, and how many bytes. */
interface Slot {
	block: number;
	load: CoreLoad | undefined;
	/** Bytes from the block's start that are the segment's; those before the segment are zero. */
	length: number;
}

/** One block as read: its bytes in memory order from the block's start, and a view of them. */
interface Block {
	readonly bytes: Uint8Array;
	readonly view: DataView;
}

/**
 * The process's memory at the moment of the core: the core's own segments, and for the parts the
 * kernel left out (file-backed text and read-only data) the executable's bytes at the place
 * NT_FILE says it was mapped. Core bytes are read on demand, in blocks, and a few hundred blocks are kept.
 */
export class Memory {
	readonly #core: CoreFile;
	readonly #image: Image;
	readonly #bias: number;
	readonly #exeMappings: readonly FileMapping[];
	// Allocated once, filled slot by slot (untouched slots take no memory).
	readonly #buffer = new Uint8Array(slots * blockSize);
	readonly #view = new DataView(this.#buffer.buffer);
	readonly #held = new Uint8Array(maxHeld);
	readonly #prefetched = new Uint8Array(prefetchSize);
	readonly #heldBytesView = new DataView(this.#held.buffer);
	readonly #prefetchedView = new DataView(this.#prefetched.buffer);
	// What `hold` holds: `[#heldStart, #heldEnd)`, whose bytes are at an address plus #heldDelta
	// in #heldView (over #held, or #prefetched).
	#heldView = this.#heldBytesView;
	#heldStart = 0;
	#heldEnd = 0;
	#heldDelta = 0;
	// The pieces read ahead: their starts and ends in address order, and where each starts in
	// #prefetched.
	#pieceStarts: number[] = [];
	#pieceEnds: number[] = [];
	#pieceBases: number[] = [];
	// The part of a segment the last block read from holds, and where its bytes are in #buffer
	// (an address plus #lastDelta): most reads fall in the block of the one before.
	#lastStart = 0;
	#lastEnd = 0;
	#lastDelta = 0;
	readonly #slots: Slot[] = Array.from({ length: slots }, () => ({
		block: -1,
		load: undefined,
		length: 0,
	}));

	/**
	 * `bias` is the executable's load address minus its link address; `exeMappings` the NT_FILE
	 * mappings of the executable (empty when the core has no NT_FILE).
	 */
	constructor(core: CoreFile, image: Image, bias: number, exeMappings: readonly FileMapping[]) {
		this.#core = core;
		this.#image = image;
		this.#bias = bias;
		this.#exeMappings = exeMappings;
	}

	/** Reads `length` bytes at address `addr`, or fails naming `what`. */
	read(addr: number, length: number, what: string): Uint8Array {
		if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(addr + length)) {
			throw new CoreError("unmapped", `Cannot read ${what}: bad address ${addr}`, 0);
		}
		const load = this.#load(addr);
		if (load !== undefined && addr + length <= load.vaddr + load.fileSize) {
			return this.#fromCore(load, addr, length, what);
		}
		const m = this.#exeMappings.find((x) => addr >= x.start && addr + length <= x.end);
		if (m !== undefined) {
			return this.#image.reader.slice(m.offset + (addr - m.start), length, what);
		}
		if (this.#exeMappings.length === 0) {
			const linked = addr - this.#bias;
			for (const s of this.#image.segments) {
				if (linked >= s.addr && linked + length <= s.addr + s.fileSize) {
					return this.#image.reader.slice(s.offset + (linked - s.addr), length, what);
				}
			}
		}
		const why =
			load === undefined
				? "is not in any segment of the core"
				: "is in a segment the core left out, and not in a mapping of the executable";
		throw new CoreError("unmapped", `Cannot read ${what}: address ${hex(addr)} ${why}`, addr);
	}

	/** Reads a little-endian 64-bit word; values past 2^53 are refused (no valid address is). */
	word(addr: number, what: string): number {
		const value = this.#word(addr, what);
		if (value < 0) {
			const { view, at } = this.#peek(addr, 8, what);
			throw new CoreError(
				"malformed",
				`Cannot read ${what}: the word at ${hex(addr)}, ${hex(view.getBigUint64(at, true))}, exceeds 2^53`,
				addr,
			);
		}
		return value;
	}

	/**
	 * Reads a word that should be a code address, a return address or a saved LR: one past 2^53
	 * is no address and reads as 0, which ends an unwind there as a pc outside Go code does (a
	 * split-SP victim's unwind reads such words from the middle of its frame).
	 */
	pcWord(addr: number, what: string): number {
		const value = this.#word(addr, what);
		return Math.max(value, 0);
	}

	/** The word at `addr`, or -1 when it exceeds 2^53. */
	#word(addr: number, what: string): number {
		// #peek's first two ways inline, without the object it returns: a core of 100k goroutines
		// reads a few million words.
		let view: DataView;
		let at: number;
		if (addr >= this.#heldStart && addr + 8 <= this.#heldEnd) {
			view = this.#heldView;
			at = addr + this.#heldDelta;
		} else if (addr >= this.#lastStart && addr + 8 <= this.#lastEnd) {
			view = this.#view;
			at = addr + this.#lastDelta;
		} else ({ view, at } = this.#peek(addr, 8, what));
		const hi = view.getUint32(at + 4, true);
		if (hi > 0x1fffff) return -1;
		return hi * 0x100000000 + view.getUint32(at, true);
	}

	/** Reads a little-endian 64-bit word whole, as a bigint. */
	u64(addr: number, what: string): bigint {
		const { view, at } = this.#peek(addr, 8, what);
		return view.getBigUint64(at, true);
	}

	/** Reads a little-endian 32-bit word. */
	u32(addr: number, what: string): number {
		const { view, at } = this.#peek(addr, 4, what);
		return view.getUint32(at, true);
	}

	/** Reads one byte. */
	u8(addr: number, what: string): number {
		const { view, at } = this.#peek(addr, 1, what);
		return view.getUint8(at);
	}

	/**
	 * Reads `[start, end)` of the core in one piece, when the core holds all of it, and serves the
	 * word reads there from it until the next call: the used part of a goroutine's stack, which
	 * otherwise costs a block read of its own for a few hundred bytes. A range read ahead by
	 * {@link prefetch} is served from there.
	 */
	hold(start: number, end: number): void {
		this.#heldEnd = 0;
		const at = this.#piece(start);
		if (at >= 0 && end <= (this.#pieceEnds[at] as number)) {
			this.#heldView = this.#prefetchedView;
			this.#heldDelta = (this.#pieceBases[at] as number) - (this.#pieceStarts[at] as number);
			this.#heldStart = start;
			this.#heldEnd = end;
			return;
		}
		const offset = this.#heldOffset(start, end);
		if (offset === undefined) return;
		this.#core.source.read(this.#held.subarray(0, end - start), offset);
		this.#heldView = this.#heldBytesView;
		this.#heldDelta = -start;
		this.#heldStart = start;
		this.#heldEnd = end;
	}

	/**
	 * Reads ahead the ranges (`[start, end)` pairs) that the next calls of {@link hold} will ask
	 * for: the stacks of the goroutines about to be read. Sorted by address, those near each other
	 * are read in one piece: the stacks of allgs's goroutines lie mostly side by side, in an order
	 * of their own, so this takes a few reads where holding each takes one per goroutine.
	 */
	prefetch(ranges: readonly number[]): void {
		const starts: number[] = [];
		const ends: number[] = [];
		const bases: number[] = [];
		// Where each piece starts in the core file, and its segment.
		const offsets: number[] = [];
		let load: CoreLoad | undefined;
		const order: number[] = [];
		for (let i = 0; i + 1 < ranges.length; i += 2) {
			if (this.#heldOffset(ranges[i] as number, ranges[i + 1] as number) !== undefined)
				order.push(i);
		}
		order.sort((a, b) => (ranges[a] as number) - (ranges[b] as number));
		let used = 0;
		for (const i of order) {
			const start = ranges[i] as number;
			const end = ranges[i + 1] as number;
			const last = starts.length - 1;
			if (
				last >= 0 &&
				start <= (ends[last] as number) + prefetchGap &&
				this.#load(start) === load
			) {
				const grown = Math.max(end, ends[last] as number);
				const size = (bases[last] as number) + (grown - (starts[last] as number));
				if (size > prefetchSize) break;
				ends[last] = grown;
				used = size;
				continue;
			}
			if (used + (end - start) > prefetchSize) break;
			starts.push(start);
			ends.push(end);
			bases.push(used);
			offsets.push(this.#heldOffset(start, end) as number);
			used += end - start;
			load = this.#load(start);
		}
		for (let p = 0; p < starts.length; p++) {
			const base = bases[p] as number;
			const size = (ends[p] as number) - (starts[p] as number);
			this.#core.source.read(this.#prefetched.subarray(base, base + size), offsets[p] as number);
		}
		this.#pieceStarts = starts;
		this.#pieceEnds = ends;
		this.#pieceBases = bases;
		this.#heldEnd = 0;
	}

	// The offset in the core file of `[start, end)`, when the core holds all of it in one segment
	// and it is no longer than a stack's used part may be; else undefined.
	#heldOffset(start: number, end: number): number | undefined {
		if (!Number.isSafeInteger(start) || start < 0 || end <= start || end - start > maxHeld)
			return undefined;
		const load = this.#load(start);
		if (load === undefined || end > load.vaddr + load.fileSize) return undefined;
		const offset = load.offset + (start - load.vaddr);
		if (offset + (end - start) > this.#core.source.size) return undefined;
		return offset;
	}

	// The piece read ahead that holds `addr`, or -1.
	#piece(addr: number): number {
		const starts = this.#pieceStarts;
		let lo = 0;
		let hi = starts.length - 1;
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			if (addr < (starts[mid] as number)) hi = mid - 1;
			else if (addr >= (this.#pieceEnds[mid] as number)) lo = mid + 1;
			else return mid;
		}
		return -1;
	}

	// The bytes at `addr` without a copy when one cached block of the core holds them all (the
	// reads of goroutines and stacks), else a copy made by `read`.
	#peek(addr: number, length: number, what: string): { view: DataView; at: number } {
		if (addr >= this.#heldStart && addr + length <= this.#heldEnd) {
			return { view: this.#heldView, at: addr + this.#heldDelta };
		}
		if (addr >= this.#lastStart && addr + length <= this.#lastEnd) {
			return { view: this.#view, at: addr + this.#lastDelta };
		}
		const load = Number.isSafeInteger(addr) && addr >= 0 ? this.#load(addr) : undefined;
		if (load !== undefined && addr + length <= load.vaddr + load.fileSize) {
			const block = Math.floor(addr / blockSize);
			const at = addr - block * blockSize;
			const b = this.#block(load, block, what);
			if (at + length <= b.bytes.length) {
				this.#lastStart = Math.max(block * blockSize, load.vaddr);
				this.#lastEnd = block * blockSize + b.bytes.length;
				this.#lastDelta = b.bytes.byteOffset - block * blockSize;
				return { view: b.view, at: b.bytes.byteOffset + at };
			}
		}
		const b = this.read(addr, length, what);
		return { view: new DataView(b.buffer, b.byteOffset, length), at: 0 };
	}

	#load(addr: number): CoreLoad | undefined {
		const loads = this.#core.loads;
		let lo = 0;
		let hi = loads.length - 1;
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			const l = loads[mid] as CoreLoad;
			if (addr < l.vaddr) hi = mid - 1;
			else if (addr >= l.vaddr + l.memSize) lo = mid + 1;
			else return l;
		}
		return undefined;
	}

	#fromCore(load: CoreLoad, addr: number, length: number, what: string): Uint8Array {
		const out = new Uint8Array(length);
		let done = 0;
		while (done < length) {
			const at = addr + done;
			const block = Math.floor(at / blockSize);
			const { bytes } = this.#block(load, block, what);
			const from = at - block * blockSize;
			const n = Math.min(length - done, bytes.length - from);
			if (n <= 0) {
				throw new CoreError(
					"truncated",
					`Cannot read ${what} at ${hex(at)}: the core file ends at ${hex(this.#core.source.size)}, before it (a truncated core: was a core size limit such as ulimit -c reached?)`,
					at,
				);
			}
			out.set(bytes.subarray(from, from + n), done);
			done += n;
		}
		return out;
	}

	// One block of a segment (clipped to the segment's file bytes), from its slot or read from the
	// core file into it. What it returns is valid until the next read.
	#block(load: CoreLoad, block: number, what: string): Block {
		const index = block % slots;
		const slot = this.#slots[index] as Slot;
		const base = index * blockSize;
		if (slot.block !== block || slot.load !== load) {
			const start = Math.max(block * blockSize, load.vaddr);
			const offset = load.offset + (start - load.vaddr);
			const size = this.#core.source.size;
			if (offset >= size) {
				throw new CoreError(
					"truncated",
					`Cannot read ${what}: the core file ends at ${hex(size)}, before the block at ${hex(offset)} that holds it (a truncated core: was a core size limit such as ulimit -c reached?)`,
					offset,
				);
			}
			// A truncated core keeps what it has: reads past its end fail in #fromCore.
			const end = Math.min(
				(block + 1) * blockSize,
				load.vaddr + load.fileSize,
				start + (size - offset),
			);
			const skip = start - block * blockSize;
			slot.block = -1;
			this.#lastEnd = 0;
			this.#buffer.fill(0, base, base + skip);
			this.#core.source.read(
				this.#buffer.subarray(base + skip, base + (end - block * blockSize)),
				offset,
			);
			slot.block = block;
			slot.load = load;
			slot.length = end - block * blockSize;
		}
		return { bytes: this.#buffer.subarray(base, base + slot.length), view: this.#view };
	}
}
