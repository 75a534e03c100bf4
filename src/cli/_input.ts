import { Buffer } from "node:buffer";
import { closeSync, createReadStream, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Io } from "./_io.js";
import { InputError } from "./_io.js";

/** Bytes read from a file at a time: large reads cost less per byte. */
export const READ_CHUNK = 1024 * 1024;

/** A named input: a file path, or `-` for standard input. */
export interface InputSource {
	name: string;
	/** The input's bytes; each chunk may be overwritten once the next one is asked for. */
	chunks(): AsyncIterable<Uint8Array>;
	/** The input opened for reading at any offset, when it is a regular file of plain text. */
	file(): RegularFile | null;
}

/** An input that can be read at any offset: a regular file, not gzip data. */
export interface RegularFile {
	/** The path to open it by, or null for standard input (descriptor 0). */
	path: string | null;
	fd: number;
	/** Where the input starts in the file (standard input may have been partly read) and its size. */
	start: number;
	size: number;
	/** Closes the file if it was opened for this. */
	close(): void;
}

/** Opens each path (`-` is standard input); gzip data is recognised by its magic bytes. */
export function openInputs(paths: readonly string[], io: Io): InputSource[] {
	const list = paths.length === 0 ? ["-"] : paths;
	return list.map((path) => {
		const name = path === "-" ? "<stdin>" : path;
		return {
			name,
			chunks: () => readInput(path === "-" ? stdinChunks(io.stdin) : fileChunks(path), name),
			file: () => (path === "-" ? stdinFile(io.stdin) : namedFile(path)),
		};
	});
}

// A regular file is read with blocking reads, which come straight from the page cache; a stream
// waits a round trip through libuv's thread pool for every chunk, and the parser idles meanwhile.
async function* fileChunks(path: string): AsyncIterable<Uint8Array> {
	const fd = openSync(path, "r");
	try {
		const stat = fstatSync(fd);
		if (stat.isDirectory()) throw new InputError(`${path}: is a directory, not a file`);
		if (!stat.isFile()) {
			yield* createReadStream(path, { fd, autoClose: false, highWaterMark: READ_CHUNK });
			return;
		}
		yield* readBlocking(fd);
	} finally {
		closeSync(fd);
	}
}

// Standard input redirected from a file is read the same way; a pipe or a terminal as a stream.
function stdinChunks(stdin: Readable): AsyncIterable<Uint8Array> {
	const fd = (stdin as { fd?: unknown }).fd;
	if (typeof fd === "number" && fstatSync(fd).isFile()) return readBlocking(fd);
	return stdin;
}

function namedFile(path: string): RegularFile | null {
	let fd: number;
	try {
		fd = openSync(path, "r");
	} catch {
		return null; // reading it the usual way reports why
	}
	const close = () => closeSync(fd);
	const file = plainFile(path, fd, 0, close);
	if (file === null) close();
	return file;
}

function stdinFile(stdin: Readable): RegularFile | null {
	const fd = (stdin as { fd?: unknown }).fd;
	if (fd !== 0) return null;
	// Where the shell left the descriptor; only Linux says, in /proc.
	let start: number;
	try {
		const info = readFileSync("/proc/self/fdinfo/0", "latin1");
		start = Number(/^pos:\s*(\d+)$/m.exec(info)?.[1]);
	} catch {
		return null;
	}
	if (!Number.isSafeInteger(start)) return null;
	return plainFile(null, fd, start, () => {});
}

function plainFile(
	path: string | null,
	fd: number,
	start: number,
	close: () => void,
): RegularFile | null {
	const stat = fstatSync(fd);
	if (!stat.isFile() || stat.size <= start) return null;
	const head = Buffer.alloc(2);
	readSync(fd, head, 0, 2, start);
	if (head[0] === 0x1f && head[1] === 0x8b) return null;
	return { path, fd, start, size: stat.size, close };
}

// Reads from the descriptor's current position, so a file partly read by the shell goes on from
// there. One buffer serves every read: a new megabyte each time waits for the garbage collector.
async function* readBlocking(fd: number): AsyncIterable<Uint8Array> {
	const buffer = Buffer.allocUnsafe(READ_CHUNK);
	for (;;) {
		const length = readSync(fd, buffer, 0, READ_CHUNK, null);
		if (length === 0) return;
		yield buffer.subarray(0, length);
	}
}

async function* readInput(
	stream: AsyncIterable<Uint8Array>,
	name: string,
): AsyncIterable<Uint8Array> {
	const iterator = stream[Symbol.asyncIterator]();
	const first = await iterator.next();
	if (first.done === true) return;
	const head: Uint8Array = first.value;
	const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
	if (head[0] !== 0x1f || head[1] !== 0x8b) {
		yield head;
		yield* rest;
		return;
	}
	// The decompressor reads ahead, so it gets copies of chunks that may be reused.
	const gunzip = Readable.from(copied(head, rest)).pipe(createGunzip());
	try {
		yield* gunzip as AsyncIterable<Uint8Array>;
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error);
		throw new InputError(`${name}: cannot decompress gzip data: ${reason}`);
	}
}

async function* copied(
	head: Uint8Array,
	rest: AsyncIterable<Uint8Array>,
): AsyncIterable<Uint8Array> {
	yield Buffer.from(head);
	for await (const chunk of rest) yield Buffer.from(chunk);
}

/**
 * Counts the newlines of a file from `from` up to `to`, stopping at the `most`-th: how many, and
 * where the line after the last one counted starts (`to`, or the file's end, when there were
 * fewer). Both readers of a file split in two (_parse-parallel.ts) number its lines this way.
 */
export function countNewlines(
	fd: number,
	from: number,
	to: number,
	most = Number.POSITIVE_INFINITY,
): { count: number; next: number } {
	const buffer = Buffer.allocUnsafe(READ_CHUNK);
	let count = 0;
	let at = from;
	while (at < to && count < most) {
		const length = readSync(fd, buffer, 0, Math.min(READ_CHUNK, to - at), at);
		if (length === 0) break;
		const chunk = buffer.subarray(0, length);
		for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1))
			if (++count === most) return { count, next: at + i + 1 };
		at += length;
	}
	return { count, next: at };
}
