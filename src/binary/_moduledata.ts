import { BinaryError, hex } from "./_error.js";
import { type Image, readPointer } from "./_image.js";
import type { PclntabVersion } from "./_pclntab.js";

/** Finds the address of `moduledata` (Go 1.16+ layout): a word pointing at the pclntab header. */
export function findModuledata(
	image: Image,
	pclntabAddr: number,
	ptrSize: 4 | 8,
): number | undefined {
	const candidates = image.relocations.whereValue(pclntabAddr);
	const r = image.reader;
	const view = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
	const le = r.littleEndian;
	// Compare 32-bit halves so that no word is ever converted (or refused) as a number.
	const lo = pclntabAddr % 0x100000000;
	const hi = Math.floor(pclntabAddr / 0x100000000);
	for (const seg of image.segments) {
		if (!seg.write) continue;
		const end = seg.offset + seg.fileSize;
		r.load(seg.offset, seg.fileSize);
		for (let at = seg.offset; at + 24 * ptrSize <= end; at += ptrSize) {
			if (ptrSize === 4) {
				if (view.getUint32(at, le) === lo) candidates.push(seg.addr + (at - seg.offset));
			} else if (
				view.getUint32(at + (le ? 0 : 4), le) === lo &&
				view.getUint32(at + (le ? 4 : 0), le) === hi
			) {
				candidates.push(seg.addr + (at - seg.offset));
			}
		}
	}
	for (const md of candidates) {
		try {
			// funcnametab.ptr follows pcHeader and must point into the table.
			const names = readPointer(image, md + ptrSize, "moduledata.funcnametab");
			const text = readPointer(image, md + 22 * ptrSize, "moduledata.text");
			const etext = readPointer(image, md + 23 * ptrSize, "moduledata.etext");
			if (names > pclntabAddr && text > 0 && etext > text) return md;
		} catch (error) {
			if (!(error instanceof BinaryError)) throw error;
		}
	}
	return undefined;
}

/** What gocrash reads from `moduledata` besides the pclntab (runtime/symtab.go). */
export interface Moduledata {
	readonly addr: number;
	readonly text: number;
	/** Base of the FUNCDATA offsets (`go:func.*`). */
	readonly gofunc: number;
	/** `textsectmap`: more than one entry when the linker split the text (cmd/link data.go). */
	readonly textSections: readonly TextSection[];
}

/** One `textsect`: text offsets `[vaddr, end)` are at `baseaddr + (offset - vaddr)`. */
export interface TextSection {
	readonly vaddr: number;
	readonly end: number;
	readonly baseaddr: number;
}

const maxTextSections = 1024;

/**
 * Reads the fields of the Go 1.18+ `moduledata` at `md` that locate code: text, gofunc and
 * textsectmap. Word indexes (runtime/symtab.go): text 22; then noptrdata … enoptrbss, Go 1.20+
 * covctrs/ecovctrs, end, gcdata, gcbss, types, etypes, rodata, gofunc (38, or 40 since 1.20); Go
 * 1.26 put epclntab before textsectmap, which is found as the slice whose len equals its cap.
 */
export function readModuledata(
	image: Image,
	md: number,
	version: PclntabVersion,
	ptrSize: 4 | 8,
): Moduledata {
	const word = (n: number, what: string): number =>
		readPointer(image, md + n * ptrSize, `moduledata.${what}`);
	const text = word(22, "text");
	const gofuncAt = version === "1.18" ? 38 : 40;
	const gofunc = word(gofuncAt, "gofunc");
	for (const at of version === "1.18" ? [39] : [41, 42]) {
		const ptr = word(at, "textsectmap");
		const len = word(at + 1, "textsectmap.len");
		if (len !== word(at + 2, "textsectmap.cap") || len < 1 || len > maxTextSections) continue;
		const sections: TextSection[] = [];
		for (let i = 0; i < len; i++) {
			const e = ptr + 3 * i * ptrSize;
			sections.push({
				vaddr: readPointer(image, e, "textsect.vaddr"),
				end: readPointer(image, e + ptrSize, "textsect.end"),
				baseaddr: readPointer(image, e + 2 * ptrSize, "textsect.baseaddr"),
			});
		}
		// The first section starts at runtime.text (cmd/link symtab.go textsectionmap).
		if (sections[0]?.vaddr === 0 && sections[0].baseaddr === text) {
			return { addr: md, text, gofunc, textSections: sections };
		}
	}
	throw new BinaryError(
		"malformed",
		`Cannot read moduledata.textsectmap at ${hex(md)}: no slice whose first section starts at text ${hex(text)}`,
		0,
		image.format,
	);
}

/**
 * The text sections of a Go 1.18+ binary whose function offsets need textsectmap: the linker
 * splits the text only on arm, ppc64 and darwin/arm64 with external linking (cmd/link data.go
 * splitTextSections), and the external linker may then move each section. Empty when there is
 * one section or no moduledata to tell.
 */
export function readTextSections(
	image: Image,
	pclntabAddr: number,
	version: PclntabVersion,
	ptrSize: 4 | 8,
): readonly TextSection[] {
	const splits =
		image.arch === "arm" ||
		image.arch === "ppc64" ||
		(image.arch === "arm64" && image.format === "macho");
	if (!splits) return [];
	const md = findModuledata(image, pclntabAddr, ptrSize);
	if (md === undefined) return [];
	const sections = readModuledata(image, md, version, ptrSize).textSections;
	return sections.length > 1 ? sections : [];
}
