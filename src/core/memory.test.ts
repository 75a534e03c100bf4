import { expect, test } from "vitest";
import type { Image } from "../binary/index.js";
import type { CoreFile, CoreLoad } from "./_core-file.js";
import { Memory } from "./_memory.js";

// A core file of two segments whose every byte is a function of its file offset, read through a
// source that counts its reads; cut short by `missing` bytes.
function core(missing = 0) {
	const size = 8 << 20;
	const bytes = new Uint8Array(size);
	for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 11)) & 0xff;
	let reads = 0;
	const load = (vaddr: number, offset: number, fileSize: number): CoreLoad => ({
		vaddr,
		memSize: fileSize,
		offset,
		fileSize,
		read: true,
		write: true,
		exec: false,
	});
	const file: CoreFile = {
		arch: "amd64",
		source: {
			size: size - missing,
			read(into, offset) {
				reads++;
				if (offset + into.length > size - missing) throw new Error("read past the end");
				into.set(bytes.subarray(offset, offset + into.length));
			},
		},
		// Side by side in memory, apart in the file: a piece must never span them.
		loads: [load(0xc000000000, 0, 4 << 20), load(0xc000400000, 4 << 20, 4 << 20)],
		threads: [],
		files: [],
		auxv: new Map(),
		command: undefined,
	};
	const image = { segments: [], reader: undefined } as unknown as Image;
	return { mem: new Memory(file, image, 0, []), bytes, reads: () => reads };
}

// What the 32-bit word at `addr` must be, from the bytes at its file offset.
function expected(bytes: Uint8Array, addr: number): number {
	return new DataView(bytes.buffer, addr - 0xc000000000, 4).getUint32(0, true);
}

test("stacks read ahead are held from the pieces, with the bytes of the core", () => {
	const { mem, bytes, reads } = core();
	// 256 stacks of 1 KiB used at the top of 4 KiB slots, in shuffled order, then some across
	// the boundary of the two segments and some the core does not hold.
	const ranges: number[] = [];
	const order = Array.from({ length: 256 }, (_, i) => (i * 97) % 256);
	for (const i of order) ranges.push(0xc000100000 + i * 4096 + 3072, 0xc000100000 + (i + 1) * 4096);
	ranges.push(0xc0003ffc00, 0xc000400400, 0xc000400400, 0xc000400800, 0xd000000000, 0xd000000400);
	mem.prefetch(ranges);
	const before = reads();
	expect(before).toBeLessThan(16);
	for (let r = 0; r + 1 < ranges.length; r += 2) {
		const start = ranges[r] as number;
		const end = ranges[r + 1] as number;
		mem.hold(start, end);
		if (start >= 0xd000000000) continue;
		for (let a = start; a + 4 <= end; a += 4) expect(mem.u32(a, "a word")).toBe(expected(bytes, a));
	}
	// The range across the segments' boundary was held by a read of its own.
	expect(reads() - before).toBeLessThanOrEqual(2);
});

test("ranges past a truncated core's end are left to be read, and fail there", () => {
	const { mem } = core(1 << 20);
	const start = 0xc000400000 + (3 << 20) + 4096;
	mem.prefetch([start, start + 1024]);
	mem.hold(start, start + 1024);
	expect(() => mem.u32(start, "a stack word")).toThrow(/truncated core/);
});

test("a code address past 2^53 reads as 0, where a word of data is refused", () => {
	const { mem, bytes } = core();
	// Two words at the start of the first segment, the core's bytes being read only when asked
	// for: 2^53 - 1, and 2^53.
	const view = new DataView(bytes.buffer);
	view.setBigUint64(0, 2n ** 53n - 1n, true);
	view.setBigUint64(8, 2n ** 53n, true);
	const at = 0xc000000000;
	expect(mem.word(at, "a pointer")).toBe(2 ** 53 - 1);
	expect(mem.pcWord(at, "a return address")).toBe(2 ** 53 - 1);
	expect(() => mem.word(at + 8, "a pointer")).toThrow(
		"Cannot read a pointer: the word at 0xc000000008, 0x20000000000000, exceeds 2^53",
	);
	expect(mem.pcWord(at + 8, "a return address")).toBe(0);
});
