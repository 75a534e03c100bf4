import { ByteReader } from "./_bytes.js";
import { BinaryError, hex } from "./_error.js";
import {
	addrToOffset,
	findSection,
	type Image,
	noRelocations,
	readPointer,
	type Segment,
} from "./_image.js";
import { findModuledata, readTextSections, type TextSection } from "./_moduledata.js";

/** The pclntab layouts, named by the first Go release that wrote them. */
export type PclntabVersion = "1.2" | "1.16" | "1.18" | "1.20";

const magics: ReadonlyMap<number, PclntabVersion> = new Map([
	[0xfffffffb, "1.2"],
	[0xfffffffa, "1.16"],
	[0xfffffff0, "1.18"],
	[0xfffffff1, "1.20"],
]);

const maxFuncs = 1 << 22;
const maxPcdata = 64;
const maxFuncdata = 32;

/** FuncFlag bits (internal/abi/symtab.go). */
export const funcFlagAsm = 4;

/** PCDATA table index of the async-preemption unsafe points (internal/abi). */
export const pcdataUnsafePoint = 0;

/** PCDATA table index of the inline tree index (internal/abi). */
export const pcdataInlTreeIndex = 2;

/** FUNCDATA index of the locals pointer maps; functions without it are not preempted. */
export const funcdataLocalsPointerMaps = 1;

/** FUNCDATA index of the inline tree (internal/abi). */
export const funcdataInlTree = 3;

/** One `_func` record, decoded. */
export interface FuncRecord {
	readonly entry: number;
	readonly end: number;
	readonly name: string;
	readonly args: number;
	readonly pcsp: number;
	readonly pcfile: number;
	readonly pcln: number;
	readonly cuOffset: number;
	readonly startLine: number;
	readonly funcID: number;
	readonly flag: number;
	readonly pcdata: readonly number[];
	/** Whether FUNCDATA_LocalsPointerMaps is present (compiled Go code has it). */
	readonly hasLocalsPointerMaps: boolean;
	/**
	 * FUNCDATA_InlTree as stored: an offset from `moduledata.gofunc` (Go 1.18+), else an address;
	 * undefined when the function has no inlined calls.
	 */
	readonly inlTree: number | undefined;
}

/** A run of one pc-value table: `value` holds for `[start, end)`. */
export interface PcRun {
	readonly start: number;
	readonly end: number;
	readonly value: number;
}

/** A parsed pclntab: header, function table and pc-value decoding, all bounds-checked. */
export class Pclntab {
	readonly version: PclntabVersion;
	readonly addr: number;
	readonly quantum: number;
	readonly ptrSize: 4 | 8;
	readonly nfunc: number;
	readonly textStart: number;
	readonly #r: ByteReader;
	readonly #base: number;
	readonly #limit: number;
	readonly #funcnametab: number;
	readonly #cutab: number;
	readonly #filetab: number;
	readonly #pctab: number;
	readonly #functab: number;
	readonly #funcdata: number;
	readonly #entries: Float64Array;
	readonly #funcoffs: Uint32Array;
	/** `moduledata.textsectmap` when the linker split the text into more than one section. */
	readonly textSections: readonly TextSection[];

	constructor(image: Image, base: number, limit: number, addr: number) {
		const r = image.reader;
		this.#r = r;
		this.#base = base;
		this.#limit = limit;
		this.addr = addr;
		r.need(base, 8, "pclntab header");
		const magic32 = r.u32(base, "pclntab magic");
		const version = magics.get(magic32);
		if (version === undefined) {
			throw new BinaryError("no-pclntab", `Bad pclntab magic ${hex(magic32)}`, base, image.format);
		}
		this.version = version;
		this.quantum = r.u8(base + 6, "pclntab header");
		const ptrSize = r.u8(base + 7, "pclntab header");
		if (
			r.u8(base + 4, "pclntab header") !== 0 ||
			r.u8(base + 5, "pclntab header") !== 0 ||
			![1, 2, 4].includes(this.quantum) ||
			(ptrSize !== 4 && ptrSize !== 8)
		) {
			throw r.error("pclntab header", base);
		}
		this.ptrSize = ptrSize;
		const word = (n: number): number => {
			const at = base + 8 + n * ptrSize;
			if (at + ptrSize > limit) throw r.error(`pclntab header word ${n} (past the table end)`, at);
			return r.word(at, ptrSize, `pclntab header word ${n}`);
		};
		const region = (n: number, name: string): number => {
			const off = word(n);
			if (off >= limit - base)
				throw r.error(`pclntab ${name} offset ${hex(off)}`, base + 8 + n * ptrSize);
			return base + off;
		};
		let headerText = 0;
		if (version === "1.2") {
			this.nfunc = word(0);
			this.#functab = base + 8 + ptrSize;
			this.#funcnametab = base;
			this.#cutab = base;
			this.#pctab = base;
			this.#funcdata = base;
			const fileoffAt = this.#functab + (this.nfunc * 2 + 1) * ptrSize;
			this.#filetab = base + r.u32(fileoffAt, "pclntab file table offset");
		} else if (version === "1.16") {
			this.nfunc = word(0);
			this.#funcnametab = region(2, "funcnametab");
			this.#cutab = region(3, "cutab");
			this.#filetab = region(4, "filetab");
			this.#pctab = region(5, "pctab");
			this.#functab = region(6, "functab");
			this.#funcdata = this.#functab;
		} else {
			this.nfunc = word(0);
			headerText = readPointer(image, addr + 8 + 2 * ptrSize, "pclntab text start");
			this.#funcnametab = region(3, "funcnametab");
			this.#cutab = region(4, "cutab");
			this.#filetab = region(5, "filetab");
			this.#pctab = region(6, "pctab");
			this.#functab = region(7, "functab");
			this.#funcdata = this.#functab;
		}
		// Every function needs at least a functab entry and a record: reject counts the table
		// cannot hold before allocating for them.
		if (this.nfunc > maxFuncs || this.nfunc * 40 > limit - base) {
			throw r.error(`pclntab function count ${this.nfunc}`, base + 8);
		}
		const fieldSize = version === "1.18" || version === "1.20" ? 4 : ptrSize;
		const tabSize = (this.nfunc * 2 + 1) * fieldSize;
		if (this.#functab + tabSize > limit) {
			throw r.error(
				`pclntab function table (${this.nfunc} functions past the table end)`,
				this.#functab,
			);
		}
		r.need(this.#functab, tabSize, "pclntab function table");
		this.textStart =
			fieldSize === 4 ? (headerText !== 0 ? headerText : findTextStart(image, this)) : 0;
		this.textSections = fieldSize === 4 ? readTextSections(image, addr, version, ptrSize) : [];
		this.#entries = new Float64Array(this.nfunc + 1);
		this.#funcoffs = new Uint32Array(this.nfunc);
		let prev = -1;
		for (let i = 0; i <= this.nfunc; i++) {
			const at = this.#functab + i * 2 * fieldSize;
			const pc =
				fieldSize === 4
					? this.#textAddr(r.u32(at, "pclntab function table"), at)
					: r.word(at, ptrSize, "pclntab function table");
			if (pc < prev) throw r.error(`pclntab function table (entry ${i} out of order)`, at);
			prev = pc;
			this.#entries[i] = pc;
			if (i < this.nfunc) {
				const off = fieldSize === 4 ? r.u32(at + 4, "") : r.word(at + ptrSize, ptrSize, "");
				if (this.#funcdata + off >= limit)
					throw r.error(`pclntab record offset of function ${i}`, at);
				this.#funcoffs[i] = off;
			}
		}
	}

	// An entry offset to its address (runtime/symtab.go textAddr): with several text sections,
	// through the section it falls in, the last one including its end (etext).
	#textAddr(off: number, at: number): number {
		const sections = this.textSections;
		if (sections.length === 0) return this.textStart + off;
		for (let k = 0; k < sections.length; k++) {
			const s = sections[k] as TextSection;
			if ((off >= s.vaddr && off < s.end) || (k === sections.length - 1 && off === s.end)) {
				return s.baseaddr + off - s.vaddr;
			}
		}
		throw this.#r.error(`pclntab entry offset ${hex(off)} (in no text section)`, at);
	}

	// With several text sections, the end of the section holding `pc`; code between sections is
	// not Go's (runtime/symtab.go textOff).
	#sectionEnd(pc: number): number {
		for (const s of this.textSections) {
			if (pc >= s.baseaddr && pc < s.baseaddr + (s.end - s.vaddr))
				return s.baseaddr + (s.end - s.vaddr);
		}
		return -1;
	}

	/** Entry PC of function `i` (0 ≤ i < nfunc). */
	entry(i: number): number {
		return this.#entries[i] ?? 0;
	}

	/** End PC (exclusive) of function `i`: the next function's entry, or its text section's end. */
	end(i: number): number {
		const next = this.#entries[i + 1] ?? 0;
		return this.textSections.length === 0 ? next : Math.min(next, this.#sectionEnd(this.entry(i)));
	}

	/** Returns the index of the function containing `pc`, or -1. */
	findFunc(pc: number): number {
		const e = this.#entries;
		if (this.nfunc === 0 || pc < (e[0] as number) || pc >= (e[this.nfunc] as number)) return -1;
		if (this.textSections.length > 0 && this.#sectionEnd(pc) < 0) return -1;
		let lo = 0;
		let hi = this.nfunc;
		while (hi - lo > 1) {
			const mid = (lo + hi) >>> 1;
			if ((e[mid] as number) <= pc) lo = mid;
			else hi = mid;
		}
		return lo;
	}

	/** Decodes function `i`'s `_func` record. */
	func(i: number): FuncRecord {
		const r = this.#r;
		const at = this.#funcdata + (this.#funcoffs[i] ?? 0);
		const what = `pclntab record of function ${i}`;
		const p = this.version === "1.2" || this.version === "1.16" ? this.ptrSize : 4;
		const fixed = this.version === "1.20" ? 44 : this.version === "1.2" ? p + 32 : p + 36;
		if (at + fixed > this.#limit) throw r.error(what, at);
		r.need(at, fixed, what);
		const nameOff = r.i32(at + p, what);
		const npcdata = r.u32(at + p + 24, what);
		const tail =
			this.version === "1.20" ? at + 40 : this.version === "1.2" ? at + p + 28 : at + p + 32;
		const nfuncdata = r.u8(tail + 3, what);
		if (npcdata > maxPcdata || nfuncdata > maxFuncdata) throw r.error(`${what} (table counts)`, at);
		const pcdata: number[] = [];
		for (let k = 0; k < npcdata; k++) pcdata.push(r.u32(at + fixed + 4 * k, what));
		let fdAt = at + fixed + 4 * npcdata;
		const offsets = this.version === "1.18" || this.version === "1.20";
		const fdSize = offsets ? 4 : this.ptrSize;
		if (fdSize === 8 && fdAt % 8 !== 0) fdAt += 4;
		const funcdata = (k: number): number | undefined => {
			if (k >= nfuncdata) return undefined;
			const v = r.word(fdAt + k * fdSize, fdSize, what);
			// Go 1.18+ marks a missing entry with ^0, older tables with a nil pointer.
			return v === (offsets ? 0xffffffff : 0) ? undefined : v;
		};
		return {
			entry: this.entry(i),
			end: this.end(i),
			name: nameOff < 0 ? "" : this.funcName(nameOff),
			args: r.i32(at + p + 4, what),
			pcsp: r.u32(at + p + 12, what),
			pcfile: r.u32(at + p + 16, what),
			pcln: r.u32(at + p + 20, what),
			cuOffset: this.version === "1.2" ? 0 : r.u32(at + p + 28, what),
			startLine: this.version === "1.20" ? r.i32(at + 36, what) : 0,
			funcID: this.version === "1.2" ? r.u8(tail, what) : r.u8(tail, what),
			flag: this.version === "1.2" ? 0 : r.u8(tail + 1, what),
			pcdata,
			hasLocalsPointerMaps: funcdata(funcdataLocalsPointerMaps) !== undefined,
			inlTree: funcdata(funcdataInlTree),
		};
	}

	/** Decodes a whole pc-value table into runs; offset 0 means "no table" (one run of -1). */
	runs(tableOff: number, entry: number, end: number): PcRun[] {
		const out: PcRun[] = [];
		this.#walk(tableOff, entry, end, (start, stop, value) => {
			out.push({ start, end: stop, value });
			return false;
		});
		return out;
	}

	/** Returns the value of a pc-value table at `pc`, or undefined when the table does not cover it. */
	valueAt(tableOff: number, entry: number, end: number, pc: number): number | undefined {
		let found: number | undefined;
		this.#walk(tableOff, entry, end, (start, stop, value) => {
			if (pc >= start && pc < stop) found = value;
			return pc < stop;
		});
		return found;
	}

	// Steps through a pc-value table (runtime/symtab.go step) without allocating: `visit` gets
	// each run and returns true to stop.
	#walk(
		tableOff: number,
		entry: number,
		end: number,
		visit: (start: number, stop: number, value: number) => boolean,
	): void {
		if (tableOff === 0) {
			visit(entry, end, -1);
			return;
		}
		const r = this.#r;
		const bytes = r.bytes;
		let p = this.#pctab + tableOff;
		if (p >= this.#limit) throw r.error("pc-value table", p);
		let value = -1;
		let pc = entry;
		let first = true;
		let loaded = p;
		for (let n = 0; ; n++) {
			// uvarint value delta, then uvarint pc delta: at most 10 bytes.
			if (p + 10 > loaded) {
				r.load(p, 4096);
				loaded = p + 4096;
			}
			let uv = 0;
			let shift = 0;
			let b: number;
			do {
				if (p >= this.#limit || shift > 28) throw r.error("pc-value table (varint)", p);
				b = bytes[p++] as number;
				uv += (b & 0x7f) * 2 ** shift;
				shift += 7;
			} while (b & 0x80);
			if (uv === 0 && !first) return;
			first = false;
			value += uv & 1 ? -((uv + 1) / 2) : uv / 2;
			let pd = 0;
			shift = 0;
			do {
				if (p >= this.#limit || shift > 28) throw r.error("pc-value table (varint)", p);
				b = bytes[p++] as number;
				pd += (b & 0x7f) * 2 ** shift;
				shift += 7;
			} while (b & 0x80);
			const next = pc + pd * this.quantum;
			if (visit(pc, next, value)) return;
			pc = next;
			if (n > 0x400000) throw r.error("pc-value table (too long)", p);
		}
	}

	/** Returns the function name at `nameOff` in the name table (as `_func` and inline trees store it). */
	funcName(nameOff: number): string {
		if (nameOff < 0 || this.#funcnametab + nameOff >= this.#limit) {
			throw this.#r.error(`function name offset ${hex(nameOff)}`, this.#funcnametab);
		}
		return this.#r.cstring(this.#funcnametab + nameOff, "function name");
	}

	/** Returns the file name for file number `fileno` of function record `f`; "" when it has none. */
	fileName(f: FuncRecord, fileno: number): string {
		const r = this.#r;
		if (fileno < 0) return "";
		if (this.version === "1.2") {
			const at = this.#filetab + 4 * fileno;
			if (at + 4 > this.#limit) throw r.error(`file ${fileno}`, at);
			return r.cstring(this.#base + r.u32(at, "file table"), `file name ${fileno}`);
		}
		const at = this.#cutab + 4 * (f.cuOffset + fileno);
		if (at + 4 > this.#limit) throw r.error(`file ${fileno} of compilation unit ${f.cuOffset}`, at);
		const off = r.u32(at, "cutab");
		if (off === 0xffffffff) return "";
		return r.cstring(this.#filetab + off, `file name ${fileno}`);
	}

	/** Returns file and line of `pc` inside function record `f`. */
	fileLine(f: FuncRecord, pc: number): { file: string; line: number } {
		const fileno = this.valueAt(f.pcfile, f.entry, f.end, pc) ?? -1;
		const line = this.valueAt(f.pcln, f.entry, f.end, pc) ?? 0;
		return { file: this.fileName(f, fileno), line };
	}
}

/**
 * Parses a bare pclntab (for example one copied out of a binary), loaded at `addr`; Go 1.18+
 * tables need their header's text start word.
 */
export function readPclntabBytes(bytes: Uint8Array, addr: number): Pclntab {
	const le = bytes[0] !== 0xff;
	const image: Image = {
		format: "unknown",
		arch: "other",
		reader: new ByteReader(bytes, "unknown", le),
		ptrSize: bytes[7] === 4 ? 4 : 8,
		sections: [],
		segments: [
			{
				addr,
				memSize: bytes.length,
				offset: 0,
				fileSize: bytes.length,
				read: true,
				write: false,
				exec: false,
			},
		],
		pie: false,
		relocations: noRelocations,
		symbols: new Map(),
		symbolSizes: new Map(),
		hasSymbols: false,
	};
	return new Pclntab(image, 0, bytes.length, addr);
}

/** Finds and parses the pclntab: by section, by symbol, else by scanning for its magic. */
export function readPclntab(image: Image): Pclntab {
	const sec = findSection(image, ".gopclntab", ".data.rel.ro.gopclntab", "__gopclntab");
	if (sec !== undefined && sec.fileSize > 0) {
		return new Pclntab(image, sec.offset, sec.offset + sec.fileSize, sec.addr);
	}
	const start = image.symbols.get("runtime.pclntab");
	const stop = image.symbols.get("runtime.epclntab");
	if (start !== undefined && stop !== undefined && stop > start) {
		const off = addrToOffset(image, start, stop - start);
		if (off >= 0) return new Pclntab(image, off, off + (stop - start), start);
	}
	// The table is read-only data: look outside the code first (older linkers put it in the text
	// segment, so that is still searched last).
	const ordered = [...image.segments].sort((a, b) => Number(a.exec) - Number(b.exec));
	for (const seg of ordered) {
		const found = scanSegment(image, seg);
		if (found !== undefined) return found;
	}
	throw new BinaryError("no-pclntab", "No Go pclntab found (not a Go binary?)", 0, image.format);
}

// The segment is searched through windows that are not kept: only the table found is loaded.
const searchWindow = 1 << 20;

function scanSegment(image: Image, seg: Segment): Pclntab | undefined {
	const r = image.reader;
	const end = seg.offset + seg.fileSize;
	const scratch = new Uint8Array(Math.min(seg.fileSize, searchWindow + 8));
	const first = seg.offset + ((4 - (seg.offset % 4)) % 4);
	for (let from = first; from + 16 <= end; from += searchWindow) {
		// Candidates start in [from, from + searchWindow); the window has 8 bytes more.
		const b = r.borrow(
			from,
			Math.min(end, from + searchWindow + 8) - from,
			scratch,
			"pclntab search",
		);
		for (let i = 0; i < searchWindow && from + i + 16 <= end; i += 4) {
			// All four magics are 0xffffff?? in one of the two byte orders.
			const b0 = b[i] as number;
			const b3 = b[i + 3] as number;
			if (
				!(
					(b0 >= 0xf0 && b[i + 1] === 0xff && b[i + 2] === 0xff && b3 === 0xff) ||
					(b0 === 0xff && b[i + 1] === 0xff && b[i + 2] === 0xff && b3 >= 0xf0)
				)
			)
				continue;
			if (b[i + 4] !== 0 || b[i + 5] !== 0) continue;
			const at = from + i;
			const saved = r.littleEndian;
			try {
				r.littleEndian = b0 !== 0xff;
				return new Pclntab(image, at, end, seg.addr + (at - seg.offset));
			} catch (error) {
				if (!(error instanceof BinaryError)) throw error;
				r.littleEndian = saved;
			}
		}
	}
	return undefined;
}

// Go 1.26 stopped writing the header's text start (cmd/link pcln.go writes 0, "unused"); take
// it from the runtime.text symbol, else from moduledata.text (runtime/symtab.go).
function findTextStart(image: Image, t: Pclntab): number {
	const sym = image.symbols.get("runtime.text");
	if (sym !== undefined) return sym;
	const md = findModuledata(image, t.addr, t.ptrSize);
	if (md !== undefined) return readPointer(image, md + 22 * t.ptrSize, "moduledata.text");
	throw new BinaryError(
		"no-text",
		`Cannot find the text start: pclntab header word is 0 and no moduledata points at pclntab ${hex(t.addr)}`,
		0,
		image.format,
	);
}
