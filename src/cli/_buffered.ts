import { Buffer } from "node:buffer";
import type { Writable } from "node:stream";

/** Bytes collected before they are handed to the stream: large writes cost less. */
const FLUSH_AT = 64 * 1024;

const HEX_DIGITS = Buffer.from("0123456789abcdef");

/**
 * Collects many small writes into large ones: one write per piece costs more than the parse.
 * Text is encoded into the buffer as it comes, so pieces are never joined into one string.
 */
export class BufferedOutput {
	readonly stream: Writable;
	#buffer = Buffer.allocUnsafe(FLUSH_AT);
	#used = 0;

	constructor(stream: Writable) {
		this.stream = stream;
	}

	write(text: string): void {
		// UTF-8 takes at most three bytes per UTF-16 code unit.
		if (this.#used + text.length * 3 > FLUSH_AT) {
			this.flush();
			if (text.length * 3 > FLUSH_AT) {
				this.stream.write(text);
				return;
			}
		}
		this.#used += this.#buffer.write(text, this.#used);
	}

	/** Writes bytes that are already encoded; they are copied, so the caller may reuse them. */
	writeBytes(bytes: Uint8Array): void {
		if (this.#used + bytes.length > FLUSH_AT) {
			this.flush();
			if (bytes.length > FLUSH_AT) {
				this.stream.write(Buffer.from(bytes));
				return;
			}
		}
		this.#buffer.set(bytes, this.#used);
		this.#used += bytes.length;
	}

	/**
	 * Writes a whole number from 0 to 2^53 as `0x${n.toString(16)}` does, without making the
	 * string: a core's document has a million of them.
	 */
	writeHex(n: number): void {
		// 0x and at most 14 digits.
		if (this.#used + 16 > FLUSH_AT) this.flush();
		const b = this.#buffer;
		b[this.#used] = 0x30;
		b[this.#used + 1] = 0x78;
		// In 32-bit halves, whose digits take shifts, not divisions.
		const hi = Math.floor(n / 0x100000000);
		let lo = n >>> 0;
		let digits = hi === 0 ? 1 : 8;
		for (let v = hi === 0 ? lo >>> 4 : hi; v !== 0; v >>>= 4) digits++;
		let at = this.#used + 2 + digits;
		this.#used = at;
		for (let i = 0; i < 8 && (hi !== 0 || i === 0 || lo !== 0); i++) {
			b[--at] = HEX_DIGITS[lo & 15] as number;
			lo >>>= 4;
		}
		for (let v = hi; v !== 0; v >>>= 4) b[--at] = HEX_DIGITS[v & 15] as number;
	}

	/** Writes one byte, an ASCII character. */
	writeByte(byte: number): void {
		if (this.#used + 1 > FLUSH_AT) this.flush();
		this.#buffer[this.#used++] = byte;
	}

	/** Writes a whole number from 0 to 2^53 in decimal, as `String(n)` does, without making the string. */
	writeInt(n: number): void {
		if (this.#used + 16 > FLUSH_AT) this.flush();
		const b = this.#buffer;
		let digits = 1;
		for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
		let at = this.#used + digits;
		this.#used = at;
		let v = n;
		do {
			b[--at] = 0x30 + (v % 10);
			v = Math.floor(v / 10);
		} while (v > 0);
	}

	/**
	 * Writes `s` as `JSON.stringify(s)` does. Printable ASCII, nearly all crash text, is copied
	 * byte by byte; from the first other character on, JSON.stringify escapes the rest.
	 */
	writeJsonString(s: string): void {
		// An escape (`\u001f`) is six bytes for one code unit; UTF-8 at most three.
		const most = s.length * 6 + 2;
		if (this.#used + most > FLUSH_AT) {
			this.flush();
			if (most > FLUSH_AT) {
				this.write(JSON.stringify(s));
				return;
			}
		}
		const b = this.#buffer;
		let at = this.#used;
		b[at++] = 0x22;
		for (let i = 0; i < s.length; i++) {
			const c = s.charCodeAt(i);
			if (c >= 0x20 && c < 0x80 && c !== 0x22 && c !== 0x5c) {
				b[at++] = c;
				continue;
			}
			// The rest with its closing quote, without JSON.stringify's opening one.
			this.#used = at + b.write(JSON.stringify(s.slice(i)).slice(1), at);
			return;
		}
		b[at++] = 0x22;
		this.#used = at;
	}

	/** Writes a number as `JSON.stringify(n)` does (null when it is not finite). */
	writeJsonNumber(n: number): void {
		if (Number.isSafeInteger(n) && n >= 0) this.writeInt(n);
		else this.write(JSON.stringify(n));
	}

	/** Writes text known to be ASCII, such as JSON punctuation and keys, a byte per character. */
	writeAscii(text: string): void {
		if (this.#used + text.length > FLUSH_AT) {
			this.flush();
			if (text.length > FLUSH_AT) {
				this.write(text);
				return;
			}
		}
		const b = this.#buffer;
		let at = this.#used;
		for (let i = 0; i < text.length; i++) b[at++] = text.charCodeAt(i);
		this.#used = at;
	}

	flush(): void {
		if (this.#used === 0) return;
		// The stream may hold on to what it was given until it is written, so a new buffer follows.
		this.stream.write(this.#buffer.subarray(0, this.#used));
		this.#buffer = Buffer.allocUnsafe(FLUSH_AT);
		this.#used = 0;
	}
}
