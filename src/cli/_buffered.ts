import type { Writable } from "node:stream";

/**
 * Characters at which buffered output is handed to the stream: large writes cost less, but a
 * string over 64 KiB lands in V8's large-object space, which only full collections free.
 */
const FLUSH_AT = 32 * 1024;

/** Collects many small writes into large ones: one write per piece costs more than the parse. */
export class BufferedOutput {
	readonly stream: Writable;
	#pending: string[] = [];
	#size = 0;

	constructor(stream: Writable) {
		this.stream = stream;
	}

	write(text: string): void {
		this.#pending.push(text);
		this.#size += text.length;
		if (this.#size >= FLUSH_AT) this.flush();
	}

	flush(): void {
		if (this.#size === 0) return;
		this.stream.write(this.#pending.join(""));
		this.#pending = [];
		this.#size = 0;
	}
}
