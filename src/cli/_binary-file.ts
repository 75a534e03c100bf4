import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { BinaryError, type FileSource, type GoBinary, parseGoBinary } from "../binary/index.js";
import { InputError } from "./_io.js";

/** Reads an executable (gzip-compressed ones too) and parses it as a Go binary. */
export async function readGoBinary(path: string, cwd: string): Promise<GoBinary> {
	return parse(path, decompress(path, await readFile(resolve(cwd, path))));
}

/**
 * Opens an executable and gives `use` the Go binary, whose bytes are read from the file only
 * where the readers need them; gzip-compressed files and non-regular files are read whole. The
 * file is closed when `use` is done.
 */
export async function withGoBinary<T>(
	path: string,
	cwd: string,
	use: (bin: GoBinary) => T | Promise<T>,
): Promise<T> {
	const full = resolve(cwd, path);
	const fd = openSync(full, "r");
	try {
		const stat = fstatSync(fd);
		const magic = new Uint8Array(2);
		const n = stat.isFile() ? readSync(fd, magic, 0, 2, 0) : 0;
		if (n < 2 || (magic[0] === 0x1f && magic[1] === 0x8b)) {
			return await use(parse(path, decompress(path, readFileSync(fd))));
		}
		return await use(parse(path, fileSource(fd, stat.size, path)));
	} finally {
		closeSync(fd);
	}
}

/**
 * The open file `fd` of `size` bytes (taken when it was opened) read where the readers ask, so a
 * large file is never read whole; `path` names it in errors.
 */
export function fileSource(fd: number, size: number, path: string): FileSource {
	return {
		size,
		read(into, offset) {
			for (let done = 0; done < into.length; ) {
				const n = readSync(fd, into, done, into.length - done, offset + done);
				if (n === 0) throw new InputError(`${path}: the file shrank while it was being read`);
				done += n;
			}
		},
	};
}

function decompress(path: string, bytes: Uint8Array): Uint8Array {
	if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
	try {
		return gunzipSync(bytes);
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error);
		throw new InputError(`${path}: cannot decompress gzip data: ${reason}`);
	}
}

function parse(path: string, input: Uint8Array | FileSource): GoBinary {
	try {
		return parseGoBinary(input);
	} catch (error) {
		if (error instanceof BinaryError) throw new InputError(`${path}: ${error.message}`);
		throw error;
	}
}
