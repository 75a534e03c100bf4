import { ByteReader, type LazyFile } from "./_bytes.js";
import { BinaryError, hex } from "./_error.js";
import {
	type Arch,
	type Image,
	noRelocations,
	type Relocations,
	type Section,
	type Segment,
	wantedSymbols,
} from "./_image.js";

const machines: Readonly<Record<number, Arch>> = {
	3: "386",
	21: "ppc64",
	22: "s390x",
	40: "arm",
	62: "amd64",
	183: "arm64",
	243: "riscv64",
};

// R_*_RELATIVE relocation types by machine (ELF psABI supplements).
const relativeTypes: Readonly<Record<number, number>> = {
	62: 8,
	183: 1027,
	21: 22,
	22: 12,
	243: 3,
};

const maxHeaders = 0x10000;
const shfCompressed = 0x800;

/** Returns whether the bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
	return bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Parses an ELF file's headers, sections, segments, RELATIVE relocations and wanted symbols. */
export function parseElf(file: Uint8Array | LazyFile): Image {
	const r = new ByteReader(file, "elf");
	r.need(0, 16, "ELF identification");
	const elfClass = r.u8(4, "ELF class");
	const data = r.u8(5, "ELF data encoding");
	if (elfClass !== 1 && elfClass !== 2) throw r.error(`ELF class ${elfClass}`, 4);
	if (data !== 1 && data !== 2) throw r.error(`ELF data encoding ${data}`, 5);
	r.littleEndian = data === 1;
	const is64 = elfClass === 2;
	const ptrSize = is64 ? 8 : 4;
	const type = r.u16(16, "ELF header");
	const machine = r.u16(18, "ELF header");
	const phoff = is64 ? r.u64(32, "ELF header") : r.u32(28, "ELF header");
	const shoff = is64 ? r.u64(40, "ELF header") : r.u32(32, "ELF header");
	const h = is64 ? 54 : 42;
	const phentsize = r.u16(h, "ELF header");
	const phnum = r.u16(h + 2, "ELF header");
	const shentsize = r.u16(h + 4, "ELF header");
	let shnum = r.u16(h + 6, "ELF header");
	let shstrndx = r.u16(h + 8, "ELF header");

	const segments: Segment[] = [];
	if (phnum > 0) {
		if (phentsize < (is64 ? 56 : 32)) throw r.error(`program header size ${phentsize}`, h);
		r.need(phoff, phnum * phentsize, `${phnum} program headers`);
	}
	let dynamic: { offset: number; size: number } | undefined;
	for (let i = 0; i < phnum; i++) {
		const at = phoff + i * phentsize;
		const what = `program header ${i}`;
		const ptype = r.u32(at, what);
		const flags = is64 ? r.u32(at + 4, what) : r.u32(at + 24, what);
		const offset = is64 ? r.u64(at + 8, what) : r.u32(at + 4, what);
		const addr = is64 ? r.u64(at + 16, what) : r.u32(at + 8, what);
		const fileSize = is64 ? r.u64(at + 32, what) : r.u32(at + 16, what);
		const memSize = is64 ? r.u64(at + 40, what) : r.u32(at + 20, what);
		if (ptype === 2) dynamic = { offset, size: fileSize };
		if (ptype !== 1) continue;
		r.check(offset, fileSize, `${what} contents`);
		segments.push({
			addr,
			memSize,
			offset,
			fileSize,
			read: (flags & 4) !== 0,
			write: (flags & 2) !== 0,
			exec: (flags & 1) !== 0,
		});
	}

	const sections: Section[] = [];
	const raw: { type: number; offset: number; size: number; link: number; entsize: number }[] = [];
	if (shoff !== 0) {
		if (shentsize < (is64 ? 64 : 40)) throw r.error(`section header size ${shentsize}`, h + 4);
		if (shnum === 0 || shstrndx === 0xffff) {
			// Extended numbering: the real values live in section header 0.
			const s0 = is64
				? r.u64(shoff + 32, "section header 0")
				: r.u32(shoff + 20, "section header 0");
			if (shnum === 0) shnum = s0;
			if (shstrndx === 0xffff) shstrndx = r.u32(shoff + (is64 ? 40 : 24), "section header 0");
		}
		if (shnum > maxHeaders) throw r.error(`section count ${shnum}`, h + 6);
		r.need(shoff, shnum * shentsize, `${shnum} section headers`);
		for (let i = 0; i < shnum; i++) {
			const at = shoff + i * shentsize;
			const what = `section header ${i}`;
			const stype = r.u32(at + 4, what);
			const offset = is64 ? r.u64(at + 24, what) : r.u32(at + 16, what);
			const size = is64 ? r.u64(at + 32, what) : r.u32(at + 20, what);
			const fileSize = stype === 8 ? 0 : size;
			if (fileSize > 0 && offset + fileSize > r.size) {
				throw new BinaryError(
					"truncated",
					`Cannot read section ${i}: offset ${hex(offset + fileSize)} exceeds file size ${hex(r.size)}`,
					at,
					"elf",
				);
			}
			raw.push({
				type: stype,
				offset,
				size: fileSize,
				link: r.u32(at + (is64 ? 40 : 24), what),
				entsize: is64 ? r.u64(at + 56, what) : r.u32(at + 36, what),
			});
			const flags = is64 ? r.u64(at + 8, what) : r.u32(at + 8, what);
			sections.push({
				name: String(r.u32(at, what)),
				addr: (flags & 2) !== 0 ? (is64 ? r.u64(at + 16, what) : r.u32(at + 12, what)) : 0,
				size,
				offset,
				fileSize,
				exec: (flags & 4) !== 0,
				write: (flags & 1) !== 0,
				...((flags & shfCompressed) !== 0 ? { compressed: true } : {}),
			});
		}
		const strtab = raw[shstrndx];
		if (strtab === undefined) throw r.error(`section name table index ${shstrndx}`, h + 8);
		for (let i = 0; i < sections.length; i++) {
			const s = sections[i] as Section;
			const nameOff = Number(s.name);
			if (nameOff >= strtab.size) throw r.error(`name of section ${i}`, strtab.offset + nameOff);
			sections[i] = { ...s, name: r.cstring(strtab.offset + nameOff, `name of section ${i}`) };
		}
	}

	const symbols = new Map<string, number>();
	const symbolSizes = new Map<string, number>();
	let hasSymbols = false;
	for (const s of raw) {
		if (s.type !== 2) continue;
		hasSymbols = true;
		const strtab = raw[s.link];
		if (strtab === undefined) throw r.error("symbol table's string table", s.offset);
		readSymbols(r, is64, s, strtab, symbols, symbolSizes);
	}

	const relocations: Relocations[] = [];
	const relative = relativeTypes[machine];
	if (is64 && relative !== undefined) {
		for (const s of raw) if (s.type === 4) relocations.push(relaTable(r, s, relative));
		if (relocations.length === 0 && dynamic !== undefined) {
			const rela = findDynamicRela(r, dynamic, segments);
			if (rela !== undefined) relocations.push(relaTable(r, rela, relative));
		}
	}

	return {
		format: "elf",
		arch: machines[machine] ?? "other",
		reader: r,
		ptrSize,
		sections,
		segments,
		pie: type === 3,
		relocations:
			relocations.length === 0
				? noRelocations
				: {
						get: (addr) => {
							for (const t of relocations) {
								const v = t.get(addr);
								if (v !== undefined) return v;
							}
							return undefined;
						},
						whereValue: (value) => relocations.flatMap((t) => t.whereValue(value)),
					},
		symbols,
		symbolSizes,
		hasSymbols,
	};
}

function readSymbols(
	r: ByteReader,
	is64: boolean,
	symtab: { offset: number; size: number },
	strtab: { offset: number; size: number },
	out: Map<string, number>,
	sizes: Map<string, number>,
): void {
	const entsize = is64 ? 24 : 16;
	const count = Math.floor(symtab.size / entsize);
	const wantedLengths = new Set([...wantedSymbols].map((s) => s.length));
	r.load(strtab.offset, strtab.size);
	for (let i = 0; i < count; i++) {
		const at = symtab.offset + i * entsize;
		const nameOff = r.u32(at, `symbol ${i}`);
		if (nameOff >= strtab.size) continue;
		const start = strtab.offset + nameOff;
		// Cheap filter before decoding: every wanted name starts with "runtime." and has a known length.
		if (r.bytes[start] !== 0x72 || r.bytes[start + 7] !== 0x2e) continue;
		let end = start;
		const limit = Math.min(strtab.offset + strtab.size, start + 64);
		while (end < limit && r.bytes[end] !== 0) end++;
		if (!wantedLengths.has(end - start)) continue;
		const name = String.fromCharCode(...r.bytes.subarray(start, end));
		if (!wantedSymbols.has(name) || out.has(name)) continue;
		out.set(name, is64 ? r.u64(at + 8, `symbol ${i}`) : r.u32(at + 4, `symbol ${i}`));
		sizes.set(name, is64 ? r.u64(at + 16, `symbol ${i}`) : r.u32(at + 8, `symbol ${i}`));
	}
}

function relaTable(
	r: ByteReader,
	s: { offset: number; size: number },
	relative: number,
): Relocations {
	const count = Math.floor(s.size / 24);
	r.check(s.offset, count * 24, "relocation table");
	const v = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
	const le = r.littleEndian;
	// Elf64_Rela {r_offset, r_info, r_addend}; the type is the low half of r_info.
	const find = (field: 0 | 16, want: number, all: boolean): number[] => {
		r.load(s.offset, count * 24);
		const out: number[] = [];
		for (let i = 0; i < count; i++) {
			const at = s.offset + i * 24;
			if (readSafe(v, at + field, le) !== want) continue;
			if (v.getUint32(at + (le ? 8 : 12), le) !== relative) continue;
			out.push(readSafe(v, at + (field === 0 ? 16 : 0), le));
			if (!all) break;
		}
		return out;
	};
	return {
		get: (addr) => find(0, addr, false)[0],
		whereValue: (value) => find(16, value, true),
	};
}

function readSafe(v: DataView, at: number, le: boolean): number {
	const lo = v.getUint32(at + (le ? 0 : 4), le);
	const hi = v.getUint32(at + (le ? 4 : 0), le);
	return hi > 0x1fffff ? -1 : hi * 0x100000000 + lo;
}

// Without section headers, DT_RELA/DT_RELASZ in the dynamic segment give the table.
function findDynamicRela(
	r: ByteReader,
	dynamic: { offset: number; size: number },
	segments: readonly Segment[],
): { offset: number; size: number } | undefined {
	r.need(dynamic.offset, dynamic.size, "dynamic segment");
	let addr = -1;
	let size = -1;
	for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
		const tag = r.u64(at, "dynamic entry");
		if (tag === 0) break;
		if (tag === 7) addr = r.u64(at + 8, "DT_RELA");
		if (tag === 8) size = r.u64(at + 8, "DT_RELASZ");
	}
	if (addr < 0 || size < 0) return undefined;
	const seg = segments.find((s) => addr >= s.addr && addr + size <= s.addr + s.fileSize);
	if (seg === undefined) return undefined;
	return { offset: seg.offset + (addr - seg.addr), size };
}
