import { Writable } from "node:stream";
import { BufferedOutput } from "../src/cli/_buffered.js";

/** A BufferedOutput that keeps what it writes; `text` is all of it (flushed) as UTF-8. */
export function collector(): { out: BufferedOutput; text: () => string } {
	const chunks: Buffer[] = [];
	const stream = new Writable({
		write(chunk: Buffer, _encoding, done) {
			chunks.push(Buffer.from(chunk));
			done();
		},
	});
	return { out: new BufferedOutput(stream), text: () => Buffer.concat(chunks).toString() };
}

/** Everything `write` writes through a BufferedOutput, as text. */
export function written(write: (out: BufferedOutput) => void): string {
	const { out, text } = collector();
	write(out);
	out.flush();
	return text();
}
