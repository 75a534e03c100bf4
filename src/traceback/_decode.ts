import { Buffer, isAscii } from "node:buffer";

/** Bytes decoded into one string at a time. */
const DECODE_PIECE = 32 * 1024;

/** Decodes UTF-8 bytes arriving in chunks into strings, handed over piece by piece. */
export class Utf8Pieces {
	readonly #sink: (text: string) => void;
	readonly #decoder = new TextDecoder();

	constructor(sink: (text: string) => void) {
		this.#sink = sink;
	}

	write(chunk: Uint8Array): void {
		// Decoded in pieces small enough for V8's young generation: a string of a megabyte goes
		// to the large-object space, freed only by a full collection, and memory grows meanwhile.
		for (let at = 0; at < chunk.length; at += DECODE_PIECE) {
			const piece = chunk.subarray(at, at + DECODE_PIECE);
			if (isAscii(piece)) {
				// Most crash text is ASCII, which reads as Latin-1 at a fraction of UTF-8's cost. The
				// flush hands over what a multi-byte character cut at the last piece's end decodes to.
				this.#sink(this.#decoder.decode());
				this.#sink(
					Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).toString("latin1"),
				);
			} else this.#sink(this.#decoder.decode(piece, { stream: true }));
		}
	}

	/** Hands over what an unfinished character at the end decodes to. */
	end(): void {
		this.#sink(this.#decoder.decode());
	}
}
