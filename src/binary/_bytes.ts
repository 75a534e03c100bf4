import { BinaryError, type BinaryFormat, hex } from "./_error.js";

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

	constructor(bytes: Uint8Array, format: BinaryFormat, littleEndian = true) {
		this.bytes = bytes;
		this.size = bytes.length;
		this.format = format;
		this.littleEndian = littleEndian;
		this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	}

	/** Throws unless `length` bytes at `offset` are inside the file. */
	need(offset: number, length: number, what: string): void {
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
