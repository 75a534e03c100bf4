import { ByteReader, type LazyFile } from "./_bytes.js";
import { type Arch, type Image, noRelocations, type Section, wantedSymbols } from "./_image.js";

const machines: Readonly<Record<number, Arch>> = {
	332: "386",
	452: "arm",
	34404: "amd64",
	43620: "arm64",
};

/** Returns whether the bytes start with the DOS `MZ` magic. */
export function isPe(bytes: Uint8Array): boolean {
	return bytes[0] === 0x4d && bytes[1] === 0x5a;
}

/** Parses a PE file: sections as segments (addresses include ImageBase) and wanted COFF symbols. */
export function parsePe(file: Uint8Array | LazyFile): Image {
	const r = new ByteReader(file, "pe", true);
	const pe = r.u32(0x3c, "DOS header");
	if (r.u32(pe, "PE signature") !== 0x4550) throw r.error("PE signature", pe);
	const machine = r.u16(pe + 4, "COFF header");
	const nsections = r.u16(pe + 6, "COFF header");
	const symoff = r.u32(pe + 12, "COFF header");
	const nsyms = r.u32(pe + 16, "COFF header");
	const optSize = r.u16(pe + 20, "COFF header");
	const opt = pe + 24;
	const optMagic = r.u16(opt, "optional header");
	if (optMagic !== 0x10b && optMagic !== 0x20b)
		throw r.error(`optional header magic ${optMagic}`, opt);
	const is64 = optMagic === 0x20b;
	// IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE: the image is loaded at a random base (ASLR).
	const pie = (r.u16(opt + 70, "optional header") & 0x40) !== 0;
	const imageBase = is64 ? r.u64(opt + 24, "optional header") : r.u32(opt + 28, "optional header");
	const table = opt + optSize;
	r.need(table, nsections * 40, `${nsections} section headers`);
	const strtab = symoff + nsyms * 18;
	const sections: Section[] = [];
	for (let i = 0; i < nsections; i++) {
		const at = table + i * 40;
		const what = `section header ${i}`;
		let name = r.fixed(at, 8, what);
		if (name.startsWith("/") && symoff > 0) {
			const off = Number.parseInt(name.slice(1), 10);
			if (Number.isSafeInteger(off)) name = r.cstring(strtab + off, `name of section ${i}`);
		}
		const vsize = r.u32(at + 8, what);
		const vaddr = r.u32(at + 12, what);
		const rawSize = r.u32(at + 16, what);
		const rawOff = r.u32(at + 20, what);
		const flags = r.u32(at + 36, what);
		const fileSize = rawOff === 0 ? 0 : vsize > 0 ? Math.min(rawSize, vsize) : rawSize;
		r.check(rawOff, fileSize, `contents of section ${name}`);
		sections.push({
			name,
			addr: imageBase + vaddr,
			size: vsize > 0 ? vsize : rawSize,
			offset: rawOff,
			fileSize,
			exec: (flags & 0x20000000) !== 0,
			write: (flags & 0x80000000) !== 0,
		});
	}
	const symbols = new Map<string, number>();
	if (symoff > 0 && nsyms > 0) {
		r.need(symoff, nsyms * 18, "COFF symbol table");
		for (let i = 0; i < nsyms; i++) {
			const at = symoff + i * 18;
			const short = r.u32(at, "COFF symbol") !== 0;
			const name = short
				? r.fixed(at, 8, "COFF symbol name")
				: r.cstring(strtab + r.u32(at + 4, "COFF symbol"), "COFF symbol name");
			const aux = r.u8(at + 17, "COFF symbol");
			const sect = r.u16(at + 12, "COFF symbol");
			if (wantedSymbols.has(name) && !symbols.has(name) && sect > 0 && sect <= sections.length) {
				symbols.set(name, (sections[sect - 1] as Section).addr + r.u32(at + 8, "COFF symbol"));
			}
			i += aux;
		}
	}
	return {
		format: "pe",
		arch: machines[machine] ?? "other",
		reader: r,
		ptrSize: is64 ? 8 : 4,
		sections,
		segments: sections
			.filter((s) => s.fileSize > 0)
			.map((s) => ({
				addr: s.addr,
				memSize: s.size,
				offset: s.offset,
				fileSize: s.fileSize,
				read: true,
				write: s.write,
				exec: s.exec,
			})),
		pie,
		relocations: noRelocations,
		symbols,
		symbolSizes: new Map(),
		hasSymbols: nsyms > 0,
	};
}
