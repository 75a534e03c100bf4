import { Buffer } from "node:buffer";
import type { Writable } from "node:stream";

/** Bytes collected before they are handed to the stream: large writes cost less. */
const FLUSH_AT = 64 * 1024;

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

	flush(): void {
		if (this.#used === 0) return;
		// The stream may hold on to what it was given until it is written, so a new buffer follows.
		this.stream.write(this.#buffer.subarray(0, this.#used));
		this.#buffer = Buffer.allocUnsafe(FLUSH_AT);
		this.#used = 0;
	}
}
