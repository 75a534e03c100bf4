import { constants, inflateSync } from "node:zlib";
import { latin1OrUtf8 } from "./_bytes.js";
import { BinaryError, hex } from "./_error.js";
import { findSection, type Image, type Section } from "./_image.js";

/** Finds .debug_NAME: ELF and PE name it so (.zdebug_NAME compressed), Mach-O __debug_NAME (__zdebug_NAME). */
export function findDebugSection(
	image: Image,
	name: string,
): { section: Section; zdebug: boolean } | undefined {
	const plain = findSection(image, `.debug_${name}`, `__debug_${name}`);
	if (plain !== undefined) return { section: plain, zdebug: false };
	const z = findSection(image, `.zdebug_${name}`, `__zdebug_${name}`);
	return z === undefined ? undefined : { section: z, zdebug: true };
}

// zlib never expands more than 1032:1; a declared size beyond that is a lie.
const maxRatio = 1032;
// Compressed bytes inflated first; each further try inflates four times as many.
const firstInflate = 128 << 10;

/** A DWARF section's bytes, decompressed as far as they are needed. */
export interface DebugSection {
	/** Its size, decompressed. */
	readonly size: number;
	/** The bytes from its start: at least `length` of them, or all. */
	bytes(length: number): Uint8Array;
}

/**
 * The bytes of .debug_NAME: SHF_COMPRESSED (an Elf32/64_Chdr, then zlib), .zdebug_NAME (what Go
 * writes for PE and Mach-O, and older ELF linkers did: "ZLIB", the size as 8 big-endian bytes,
 * then zlib), or plain. A zlib stream is inflated from its start only as far as asked, so that a
 * reader that finds what it wants early does not inflate the rest.
 */
export function debugSection(image: Image, name: string): DebugSection {
	const r = image.reader;
	const found = findDebugSection(image, name);
	if (found === undefined) {
		throw new BinaryError("malformed", `Cannot read DWARF: no .debug_${name}`, 0, image.format);
	}
	const s = found.section;
	const what = s.name;
	const bytes = r.slice(s.offset, s.fileSize, what);
	let type = 1;
	let size: number;
	let header: number;
	if (found.zdebug) {
		if (bytes.length < 12 || latin1OrUtf8(bytes.subarray(0, 4)) !== "ZLIB") {
			throw r.error(`${what} header (no "ZLIB")`, s.offset);
		}
		// The size is big-endian whatever the file's byte order.
		const view = new DataView(bytes.buffer, bytes.byteOffset + 4, 8);
		size = view.getUint32(0, false) * 0x100000000 + view.getUint32(4, false);
		header = 12;
	} else if (s.compressed === true) {
		type = r.u32(s.offset, `${what} compression header`);
		const is64 = image.ptrSize === 8;
		size = is64
			? r.u64(s.offset + 8, `${what} compression header`)
			: r.u32(s.offset + 4, `${what} compression header`);
		header = is64 ? 24 : 12;
	} else {
		return { size: bytes.length, bytes: () => bytes };
	}
	if (type !== 1) {
		throw new BinaryError(
			"unsupported",
			`Cannot read ${what}: compression type ${type} (only zlib, type 1, is read)`,
			s.offset,
			image.format,
		);
	}
	const stream = bytes.subarray(header);
	if (size > stream.length * maxRatio) {
		throw r.error(`${what}: ${size} bytes from ${stream.length} compressed`, s.offset);
	}
	let out: Uint8Array = new Uint8Array(0);
	let inflated = 0;
	return {
		size,
		bytes(length) {
			while (out.length < length && inflated < stream.length) {
				inflated = Math.min(stream.length, Math.max(firstInflate, inflated * 4));
				out = inflate(stream.subarray(0, inflated), inflated === stream.length, size, what, image);
			}
			if (inflated === stream.length && out.length !== size) {
				throw r.error(`${what}: ${out.length} bytes decompressed, ${size} declared`, s.offset);
			}
			return out;
		},
	};
}

// Inflates a zlib stream, or the start of one (then as much as those bytes give), into at most
// `size` bytes.
function inflate(
	stream: Uint8Array,
	whole: boolean,
	size: number,
	what: string,
	image: Image,
): Uint8Array {
	try {
		return inflateSync(stream, {
			maxOutputLength: Math.max(size, 1),
			...(whole ? {} : { finishFlush: constants.Z_SYNC_FLUSH }),
		});
	} catch (error) {
		const why = error instanceof Error ? error.message : String(error);
		throw new BinaryError("malformed", `Cannot decompress ${what}: ${why}`, 0, image.format);
	}
}

/** A bounds-checked cursor over one DWARF section, which it decompresses as far as it reads. */
export class Cursor {
	bytes: Uint8Array;
	pos = 0;
	#view: DataView;
	readonly #source: DebugSection;
	readonly #le: boolean;
	readonly #section: string;
	readonly #format: Image["format"];

	constructor(source: DebugSection, section: string, image: Image) {
		this.#source = source;
		this.bytes = source.bytes(0);
		this.#view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
		this.#le = image.reader.littleEndian;
		this.#section = section;
		this.#format = image.format;
	}

	/** Makes the error about `what` at offset `at` of the section, for the caller to throw. */
	error(what: string, at: number, code: "malformed" | "unsupported" = "malformed"): BinaryError {
		return new BinaryError(
			code,
			`Cannot read ${this.#section}: ${what} at offset ${hex(at)}`,
			at,
			this.#format,
		);
	}

	/** Throws unless `length` bytes at `pos` are in the section, decompressing as far as them. */
	check(length: number): void {
		if (this.pos + length <= this.bytes.length) return;
		if (this.pos + length <= this.#source.size) this.#load(this.pos + length);
		if (this.pos + length > this.bytes.length) {
			throw new BinaryError(
				"truncated",
				`Cannot read ${this.#section}: offset ${hex(this.pos + length)} exceeds its size ${hex(this.#source.size)}`,
				this.pos,
				this.#format,
			);
		}
	}

	#load(length: number): void {
		this.bytes = this.#source.bytes(length);
		this.#view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
	}

	skip(length: number): void {
		this.check(length);
		this.pos += length;
	}

	u8(): number {
		this.check(1);
		return this.bytes[this.pos++] as number;
	}

	u16(): number {
		this.check(2);
		const v = this.#view.getUint16(this.pos, this.#le);
		this.pos += 2;
		return v;
	}

	u32(): number {
		this.check(4);
		const v = this.#view.getUint32(this.pos, this.#le);
		this.pos += 4;
		return v;
	}

	u64(): number {
		this.check(8);
		const le = this.#le;
		const lo = this.#view.getUint32(this.pos + (le ? 0 : 4), le);
		const hi = this.#view.getUint32(this.pos + (le ? 4 : 0), le);
		if (hi > 0x1fffff) throw this.error("value past 2^53", this.pos, "unsupported");
		this.pos += 8;
		return hi * 0x100000000 + lo;
	}

	/** Reads a section offset of the unit's size (4 bytes in 32-bit DWARF, 8 in 64-bit). */
	offset(size: 4 | 8): number {
		return size === 8 ? this.u64() : this.u32();
	}

	/** Reads an unsigned LEB128 number, refusing one past 2^53. */
	uleb(): number {
		const at = this.pos;
		let value = 0;
		let scale = 1;
		for (;;) {
			const b = this.u8();
			value += (b & 0x7f) * scale;
			if (b < 0x80) break;
			scale *= 128;
			if (scale > 2 ** 56) throw this.error("LEB128 number past 2^53", at, "unsupported");
		}
		if (!Number.isSafeInteger(value))
			throw this.error("LEB128 number past 2^53", at, "unsupported");
		return value;
	}

	/** Reads a signed LEB128 number, refusing one past 2^53. */
	sleb(): number {
		const at = this.pos;
		let value = 0;
		let scale = 1;
		let b: number;
		do {
			b = this.u8();
			value += (b & 0x7f) * scale;
			scale *= 128;
			if (scale > 2 ** 56) throw this.error("LEB128 number past 2^53", at, "unsupported");
		} while (b >= 0x80);
		if ((b & 0x40) !== 0) value -= scale;
		return value;
	}

	/** Steps over a LEB128 number of any length (constants such as -1<<63 take ten bytes). */
	skipLeb(): void {
		while (this.u8() >= 0x80) {}
	}

	/** Reads a NUL-terminated string. */
	cstring(): string {
		const start = this.pos;
		this.skipCstring();
		return latin1OrUtf8(this.bytes.subarray(start, this.pos - 1));
	}

	/** Steps over a NUL-terminated string. */
	skipCstring(): void {
		let nul = this.bytes.indexOf(0, this.pos);
		while (nul < 0 && this.bytes.length < this.#source.size) {
			this.#load(this.bytes.length + 1);
			nul = this.bytes.indexOf(0, this.pos);
		}
		if (nul < 0) throw this.error("string without a NUL terminator", this.pos);
		this.pos = nul + 1;
	}
}
