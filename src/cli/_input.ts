import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Io } from "./_io.js";
import { InputError } from "./_io.js";

/** Bytes read from a file at a time: large reads cost less per byte. */
const READ_CHUNK = 1024 * 1024;

/** A named input: a file path, or `-` for standard input. */
export interface InputSource {
	name: string;
	chunks(): AsyncIterable<Uint8Array>;
}

/** Opens each path (`-` is standard input); gzip data is recognised by its magic bytes. */
export function openInputs(paths: readonly string[], io: Io): InputSource[] {
	const list = paths.length === 0 ? ["-"] : paths;
	return list.map((path) => ({
		name: path === "-" ? "<stdin>" : path,
		chunks: () =>
			readInput(
				path === "-" ? io.stdin : createReadStream(path, { highWaterMark: READ_CHUNK }),
				path === "-" ? "<stdin>" : path,
			),
	}));
}

async function* readInput(stream: Readable, name: string): AsyncIterable<Uint8Array> {
	const iterator = (stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
	const first = await iterator.next();
	if (first.done === true) return;
	const head: Uint8Array = first.value;
	const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
	if (head[0] !== 0x1f || head[1] !== 0x8b) {
		yield head;
		yield* rest;
		return;
	}
	const gunzip = Readable.from(prepend(head, rest)).pipe(createGunzip());
	try {
		yield* gunzip as AsyncIterable<Uint8Array>;
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error);
		throw new InputError(`${name}: cannot decompress gzip data: ${reason}`);
	}
}

async function* prepend(
	head: Uint8Array,
	rest: AsyncIterable<Uint8Array>,
): AsyncIterable<Uint8Array> {
	yield head;
	yield* rest;
}
