import { BinaryError, type BinaryFormat, hex } from "./_error.js";

/** A file read on demand: its size, and a reader that fills `into` with the bytes at `offset`. */
export interface FileSource {
	readonly size: number;
	read(into: Uint8Array, offset: number): void;
}

const chunkShift = 16;

/**
 * A file's bytes, loaded on demand in 64 KiB chunks into one buffer of the file's size. The
 * buffer is zero-filled memory that the system commits page by page when written, so only the
 * chunks that were loaded count towards the resident size.
 */
export class LazyFile {
	readonly bytes: Uint8Array;
	readonly #source: FileSource;
	readonly #loaded: Uint8Array;

	constructor(source: FileSource) {
		this.bytes = new Uint8Array(source.size);
		this.#source = source;
		this.#loaded = new Uint8Array(Math.ceil(source.size / 2 ** chunkShift));
	}

	/** Loads the chunks covering `[offset, offset + length)`, clamped to the file. */
	load(offset: number, length: number): void {
		const end = Math.min(offset + length, this.bytes.length);
		if (!(offset >= 0 && end > offset)) return;
		const last = Math.floor((end - 1) / 2 ** chunkShift);
		let c = Math.floor(offset / 2 ** chunkShift);
		while (c <= last) {
			if (this.#loaded[c] === 1) {
				c++;
				continue;
			}
			const first = c;
			while (c <= last && this.#loaded[c] === 0) this.#loaded[c++] = 1;
			const from = first * 2 ** chunkShift;
			this.#source.read(
				this.bytes.subarray(from, Math.min(c * 2 ** chunkShift, this.bytes.length)),
				from,
			);
		}
	}

	/** Whether every chunk covering `[offset, offset + length)` is loaded. */
	isLoaded(offset: number, length: number): boolean {
		const last = Math.floor((offset + length - 1) / 2 ** chunkShift);
		for (let c = Math.floor(offset / 2 ** chunkShift); c <= last; c++) {
			if (this.#loaded[c] !== 1) return false;
		}
		return true;
	}

	/** Reads `into.length` bytes at `offset` into `into` without keeping them. */
	readInto(into: Uint8Array, offset: number): void {
		this.#source.read(into, offset);
	}
}

/**
 * Bounds-checked random access to a file's bytes in one byte order. Every read names what it
 * reads so that a short file gives "Cannot read <what>: offset 0x.. exceeds file size 0x..".
 */
export class ByteReader {
	readonly bytes: Uint8Array;
	readonly size: number;
	readonly format: BinaryFormat;
	littleEndian: boolean;
	readonly #view: DataView;
	readonly #lazy: LazyFile | undefined;

	constructor(file: Uint8Array | LazyFile, format: BinaryFormat, littleEndian = true) {
		const bytes = file instanceof LazyFile ? file.bytes : file;
		this.#lazy = file instanceof LazyFile ? file : undefined;
		this.bytes = bytes;
		this.size = bytes.length;
		this.format = format;
		this.littleEndian = littleEndian;
		this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	}

	/** Throws unless `length` bytes at `offset` are inside the file, and makes them readable. */
	need(offset: number, length: number, what: string): void {
		this.check(offset, length, what);
		this.#lazy?.load(offset, length);
	}

	/** Throws unless `length` bytes at `offset` are inside the file, without reading them. */
	check(offset: number, length: number, what: string): void {
		if (
			!Number.isSafeInteger(offset) ||
			offset < 0 ||
			!Number.isSafeInteger(length) ||
			length < 0
		) {
			throw new BinaryError(
				"malformed",
				`Cannot read ${what}: bad offset ${offset}`,
				0,
				this.format,
			);
		}
		if (offset + length > this.size) {
			const at = offset > this.size ? offset : offset + length;
			throw new BinaryError(
				"truncated",
				`Cannot read ${what}: offset ${hex(at)} exceeds file size ${hex(this.size)}`,
				offset,
				this.format,
			);
		}
	}

	/**
	 * Makes `[offset, offset + length)` (clamped to the file) readable through `bytes`, for loops
	 * that index `bytes` directly; a no-op when the whole file is in memory.
	 */
	load(offset: number, length: number): void {
		this.#lazy?.load(offset, length);
	}

	/**
	 * Returns the `length` bytes at `offset` (checked against the file size): a view when they are
	 * in memory, else a copy read into `scratch` (at least `length` long) and not kept.
	 */
	borrow(offset: number, length: number, scratch: Uint8Array, what: string): Uint8Array {
		this.check(offset, length, what);
		const lazy = this.#lazy;
		if (lazy === undefined || lazy.isLoaded(offset, length)) {
			return this.bytes.subarray(offset, offset + length);
		}
		const into = scratch.subarray(0, length);
		lazy.readInto(into, offset);
		return into;
	}

	/** Makes a `malformed` error about `what` at `offset`, for the caller to throw. */
	error(
		what: string,
		offset: number,
		code: "malformed" | "unsupported" = "malformed",
	): BinaryError {
		return new BinaryError(
			code,
			`Cannot read ${what} at offset ${hex(offset)}`,
			offset,
			this.format,
		);
	}

	u8(offset: number, what: string): number {
		this.need(offset, 1, what);
		return this.bytes[offset] as number;
	}

	u16(offset: number, what: string): number {
		this.need(offset, 2, what);
		return this.#view.getUint16(offset, this.littleEndian);
	}

	u32(offset: number, what: string): number {
		this.need(offset, 4, what);
		return this.#view.getUint32(offset, this.littleEndian);
	}

	i32(offset: number, what: string): number {
		this.need(offset, 4, what);
		return this.#view.getInt32(offset, this.littleEndian);
	}

	/** Reads a 64-bit unsigned value; values past 2^53 are refused rather than rounded. */
	u64(offset: number, what: string): number {
		this.need(offset, 8, what);
		const lo = this.#view.getUint32(offset + (this.littleEndian ? 0 : 4), this.littleEndian);
		const hi = this.#view.getUint32(offset + (this.littleEndian ? 4 : 0), this.littleEndian);
		if (hi > 0x1fffff) {
			throw new BinaryError(
				"unsupported",
				`Cannot read ${what}: value at offset ${hex(offset)} exceeds 2^53`,
				offset,
				this.format,
			);
		}
		return hi * 0x100000000 + lo;
	}

	/** Reads a pointer-sized unsigned value. */
	word(offset: number, ptrSize: 4 | 8, what: string): number {
		return ptrSize === 8 ? this.u64(offset, what) : this.u32(offset, what);
	}

	/** Reads a NUL-terminated string of at most `max` bytes starting at `offset`. */
	cstring(offset: number, what: string, max = 4096): string {
		this.need(offset, 0, what);
		const end = Math.min(this.size, offset + max);
		this.load(offset, end - offset);
		let i = offset;
		while (i < end && this.bytes[i] !== 0) i++;
		if (i === end) throw this.error(`${what} (no NUL terminator)`, offset);
		return latin1OrUtf8(this.bytes.subarray(offset, i));
	}

	/** Reads a fixed-size field holding a string padded with NULs (section names). */
	fixed(offset: number, length: number, what: string): string {
		const b = this.slice(offset, length, what);
		const nul = b.indexOf(0);
		return latin1OrUtf8(nul < 0 ? b : b.subarray(0, nul));
	}

	/** Returns `length` bytes at `offset` without copying. */
	slice(offset: number, length: number, what: string): Uint8Array {
		this.need(offset, length, what);
		return this.bytes.subarray(offset, offset + length);
	}
}

const utf8 = new TextDecoder("utf-8");

/** Decodes bytes as UTF-8 (Go strings are UTF-8; invalid bytes become U+FFFD). */
export function latin1OrUtf8(bytes: Uint8Array): string {
	let ascii = true;
	for (let i = 0; i < bytes.length; i++) {
		if ((bytes[i] as number) >= 0x80) {
			ascii = false;
			break;
		}
	}
	if (!ascii) return utf8.decode(bytes);
	let s = "";
	for (let i = 0; i < bytes.length; i += 4096) {
		s += String.fromCharCode(...bytes.subarray(i, i + 4096));
	}
	return s;
}
