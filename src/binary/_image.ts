import type { ByteReader } from "./_bytes.js";
import { BinaryError, hex } from "./_error.js";

/** Machine architectures in Go's own names. */
export type Arch = "arm64" | "amd64" | "386" | "arm" | "ppc64" | "s390x" | "riscv64" | "other";

/** One section of the file: where it is loaded and where its bytes are in the file. */
export interface Section {
	readonly name: string;
	readonly addr: number;
	readonly size: number;
	/** File offset of the bytes; `fileSize` is 0 for sections without file bytes (bss). */
	readonly offset: number;
	readonly fileSize: number;
	readonly exec: boolean;
	readonly write: boolean;
	/** ELF SHF_COMPRESSED: the file bytes are an Elf32_Chdr or Elf64_Chdr and a compressed stream. */
	readonly compressed?: true;
}

/** One loadable segment (ELF program header, Mach-O segment, PE section). */
export interface Segment {
	readonly addr: number;
	readonly memSize: number;
	readonly offset: number;
	readonly fileSize: number;
	readonly read: boolean;
	readonly write: boolean;
	readonly exec: boolean;
}

/** A parsed container: the facts the Go readers need, independent of the format. */
export interface Image {
	/** `unknown` only for a bare table read by readPclntabBytes. */
	readonly format: "elf" | "macho" | "pe" | "unknown";
	readonly arch: Arch;
	readonly reader: ByteReader;
	readonly ptrSize: 4 | 8;
	readonly sections: readonly Section[];
	readonly segments: readonly Segment[];
	/** Whether the image is loaded at a random base (ELF ET_DYN, Mach-O MH_PIE, PE DYNAMIC_BASE). */
	readonly pie: boolean;
	/** Pointer values the loader writes (ELF RELATIVE relocations). */
	readonly relocations: Relocations;
	/** Values of the few symbols gocrash uses, when a symbol table is present. */
	readonly symbols: ReadonlyMap<string, number>;
	/** Sizes of those symbols, where the symbol table records them (ELF). */
	readonly symbolSizes: ReadonlyMap<string, number>;
	/** Whether the file has a symbol table (not stripped). */
	readonly hasSymbols: boolean;
}

/** RELATIVE relocations, read in place on demand (PIE binaries have hundreds of thousands). */
export interface Relocations {
	/** The value the loader stores at `addr`, if a relocation targets it. */
	get(addr: number): number | undefined;
	/** Every address the loader sets to `value`. */
	whereValue(value: number): number[];
}

/** The relocations of a file that has none. */
export const noRelocations: Relocations = { get: () => undefined, whereValue: () => [] };

/** Symbols worth looking up in a symbol table. */
export const wantedSymbols: ReadonlySet<string> = new Set([
	"runtime.text",
	"runtime.etext",
	"runtime.pclntab",
	"runtime.epclntab",
	"runtime.firstmoduledata",
	"runtime.buildVersion",
	"runtime.modinfo",
	// The goroutine table and the names of goroutine states, read from core files.
	"runtime.allgs",
	"runtime.allglen",
	"runtime.gStatusStrings",
	"runtime.waitReasonStrings",
	// FUNCDATA base (moduledata.gofunc): go:func.* since Go 1.20, go.func.* in 1.18 and 1.19.
	"go:func.*",
	"go.func.*",
]);

/** Returns the section called `name`, if any. */
export function findSection(image: Image, ...names: string[]): Section | undefined {
	for (const name of names) {
		const s = image.sections.find((x) => x.name === name);
		if (s !== undefined) return s;
	}
	return undefined;
}

/** Translates a virtual address to a file offset with at least `length` file bytes, or -1. */
export function addrToOffset(image: Image, addr: number, length: number): number {
	for (const seg of image.segments) {
		if (addr >= seg.addr && addr + length <= seg.addr + seg.fileSize) {
			return seg.offset + (addr - seg.addr);
		}
	}
	for (const sec of image.sections) {
		if (sec.fileSize > 0 && addr >= sec.addr && addr + length <= sec.addr + sec.fileSize) {
			return sec.offset + (addr - sec.addr);
		}
	}
	return -1;
}

/** Returns `length` bytes at virtual address `addr`, or fails naming `what`. */
export function readAddr(image: Image, addr: number, length: number, what: string): Uint8Array {
	const offset = addrToOffset(image, addr, length);
	if (offset < 0) {
		throw new BinaryError(
			"malformed",
			`Cannot read ${what}: address ${hex(addr)} (+${hex(length)}) is not in the file`,
			0,
			image.format,
		);
	}
	return image.reader.slice(offset, length, what);
}

/** Reads a pointer stored at `addr`, applying a load-time relocation when the file has one. */
export function readPointer(image: Image, addr: number, what: string): number {
	const reloc = image.relocations.get(addr);
	if (reloc !== undefined) return reloc;
	const offset = addrToOffset(image, addr, image.ptrSize);
	if (offset < 0) {
		throw new BinaryError(
			"malformed",
			`Cannot read ${what}: address ${hex(addr)} is not in the file`,
			0,
			image.format,
		);
	}
	return image.reader.word(offset, image.ptrSize, what);
}
