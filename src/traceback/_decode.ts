import { Buffer, isAscii } from "node:buffer";

/** Bytes decoded into one string at a time. */
const DECODE_PIECE = 32 * 1024;
/** UTF-8's byte order mark, which some editors put at the start of a file. */
const BOM = [0xef, 0xbb, 0xbf];

/** Decodes UTF-8 bytes arriving in chunks into strings, handed over piece by piece. */
export class Utf8Pieces {
	readonly #sink: (text: string) => void;
	// A byte order mark is text like any other except at the very start, so that where pieces
	// begin never matters.
	readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
	/** The first bytes, held until it is known whether they are a byte order mark. */
	#head: Uint8Array | null;

	/** `continued`: the bytes go on from elsewhere, so a byte order mark at their start is text. */
	constructor(sink: (text: string) => void, options: { continued?: boolean } = {}) {
		this.#sink = sink;
		this.#head = options.continued === true ? null : new Uint8Array(0);
	}

	write(chunk: Uint8Array): void {
		let bytes = chunk;
		if (this.#head !== null) {
			const head = Buffer.concat([this.#head, chunk]);
			const prefix = head.subarray(0, 3).every((b, i) => b === BOM[i]);
			if (prefix && head.length < 3) {
				this.#head = head;
				return;
			}
			this.#head = null;
			bytes = prefix ? head.subarray(3) : head;
		}
		// Decoded in pieces small enough for V8's young generation: a string of a megabyte goes
		// to the large-object space, freed only by a full collection, and memory grows meanwhile.
		for (let at = 0; at < bytes.length; at += DECODE_PIECE) {
			const piece = bytes.subarray(at, at + DECODE_PIECE);
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
		const head = this.#head;
		this.#head = null;
		if (head !== null && head.length > 0) this.write(head);
		this.#sink(this.#decoder.decode());
	}
}
