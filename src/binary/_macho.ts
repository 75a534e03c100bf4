import { ByteReader, type LazyFile } from "./_bytes.js";
import {
	type Arch,
	type Image,
	noRelocations,
	type Section,
	type Segment,
	wantedSymbols,
} from "./_image.js";

const cpuTypes: Readonly<Record<number, Arch>> = {
	7: "386",
	12: "arm",
	16777223: "amd64",
	16777228: "arm64",
	16777234: "ppc64",
};

const maxCommands = 0x10000;

/** Returns whether the bytes start with a Mach-O (thin or fat) magic. */
export function isMachO(bytes: Uint8Array): boolean {
	const m =
		((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
	const u = m >>> 0;
	return (
		u === 0xcffaedfe ||
		u === 0xcefaedfe ||
		u === 0xfeedfacf ||
		u === 0xfeedface ||
		u === 0xcafebabe ||
		u === 0xcafebabf
	);
}

/** Parses a Mach-O file (or the first slice of a fat file): segments, sections and wanted symbols. */
export function parseMachO(file: Uint8Array | LazyFile): Image {
	const fat = new ByteReader(file, "macho", false);
	const magicBE = fat.u32(0, "Mach-O magic");
	if (magicBE === 0xcafebabe || magicBE === 0xcafebabf) {
		const n = fat.u32(4, "fat header");
		if (n === 0 || n > 64) throw fat.error(`fat header (${n} architectures)`, 4);
		// Like debug/buildinfo, read the first architecture's slice.
		const is64 = magicBE === 0xcafebabf;
		const offset = is64 ? fat.u64(8 + 8, "fat arch 0") : fat.u32(8 + 8, "fat arch 0");
		const size = is64 ? fat.u64(8 + 16, "fat arch 0") : fat.u32(8 + 12, "fat arch 0");
		return parseThin(fat.slice(offset, size, "fat arch 0 contents"));
	}
	return parseThin(file);
}

function parseThin(file: Uint8Array | LazyFile): Image {
	const r = new ByteReader(file, "macho", true);
	const magic = r.u32(0, "Mach-O header");
	if (magic === 0xcefaedfe || magic === 0xcffaedfe) r.littleEndian = false;
	const m = r.u32(0, "Mach-O header");
	if (m !== 0xfeedfacf && m !== 0xfeedface) throw r.error("Mach-O magic", 0, "malformed");
	const is64 = m === 0xfeedfacf;
	const cpu = r.u32(4, "Mach-O header");
	const ncmds = r.u32(16, "Mach-O header");
	// MH_PIE: the loader slides the image, so crash PCs are not link-time addresses.
	const pie = (r.u32(24, "Mach-O header") & 0x200000) !== 0;
	if (ncmds > maxCommands) throw r.error(`load command count ${ncmds}`, 16);
	let at = is64 ? 32 : 28;
	const sections: Section[] = [];
	const segments: Segment[] = [];
	const symbols = new Map<string, number>();
	let hasSymbols = false;
	for (let i = 0; i < ncmds; i++) {
		const what = `load command ${i}`;
		const cmd = r.u32(at, what);
		const size = r.u32(at + 4, what);
		if (size < 8) throw r.error(`${what} (size ${size})`, at);
		r.need(at, size, what);
		if (cmd === 0x19 || cmd === 0x1) {
			readSegment(r, at, cmd === 0x19, what, segments, sections);
		} else if (cmd === 0x2) {
			const symoff = r.u32(at + 8, what);
			const nsyms = r.u32(at + 12, what);
			const stroff = r.u32(at + 16, what);
			const strsize = r.u32(at + 20, what);
			const entsize = is64 ? 16 : 12;
			r.need(symoff, nsyms * entsize, "symbol table");
			r.need(stroff, strsize, "string table");
			hasSymbols = nsyms > 0;
			for (let k = 0; k < nsyms; k++) {
				const s = symoff + k * entsize;
				const strx = r.u32(s, "symbol");
				if (strx >= strsize || r.bytes[stroff + strx] !== 0x5f) continue;
				const name = r.cstring(stroff + strx + 1, "symbol name", strsize - strx);
				if (!wantedSymbols.has(name) || symbols.has(name)) continue;
				symbols.set(name, is64 ? r.u64(s + 8, "symbol") : r.u32(s + 8, "symbol"));
			}
		}
		at += size;
	}
	return {
		format: "macho",
		arch: cpuTypes[cpu] ?? "other",
		reader: r,
		ptrSize: is64 ? 8 : 4,
		sections,
		segments,
		pie,
		relocations: noRelocations,
		symbols,
		symbolSizes: new Map(),
		hasSymbols,
	};
}

function readSegment(
	r: ByteReader,
	at: number,
	is64: boolean,
	what: string,
	segments: Segment[],
	sections: Section[],
): void {
	const w = (off: number, of: string): number => (is64 ? r.u64(off, of) : r.u32(off, of));
	const addr = w(at + 24, what);
	const memSize = w(at + (is64 ? 32 : 28), what);
	const offset = w(at + (is64 ? 40 : 32), what);
	const fileSize = w(at + (is64 ? 48 : 36), what);
	const prot = r.u32(at + (is64 ? 60 : 44), what);
	const nsects = r.u32(at + (is64 ? 64 : 48), what);
	const sectSize = is64 ? 80 : 68;
	const first = at + (is64 ? 72 : 56);
	r.need(first, nsects * sectSize, `sections of ${what}`);
	if (fileSize > 0) {
		r.check(offset, fileSize, `contents of ${what}`);
		segments.push({
			addr,
			memSize,
			offset,
			fileSize,
			read: (prot & 1) !== 0,
			write: (prot & 2) !== 0,
			exec: (prot & 4) !== 0,
		});
	}
	for (let k = 0; k < nsects; k++) {
		const s = first + k * sectSize;
		const name = r.fixed(s, 16, "section name");
		const saddr = w(s + 32, "section header");
		const size = w(s + (is64 ? 40 : 36), "section header");
		const soffset = r.u32(s + (is64 ? 48 : 40), "section header");
		const flags = r.u32(s + (is64 ? 64 : 56), "section header");
		const zerofill = (flags & 0xff) === 1 || (flags & 0xff) === 0xc || soffset === 0;
		if (!zerofill) r.check(soffset, size, `section ${name}`);
		sections.push({
			name,
			addr: saddr,
			size,
			offset: soffset,
			fileSize: zerofill ? 0 : size,
			exec: (flags & 0x80000000) !== 0 || (prot & 4) !== 0,
			write: (prot & 2) !== 0,
		});
	}
}
