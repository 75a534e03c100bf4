import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { BinaryError, type GoBinary, parseGoBinary } from "../binary/index.js";
import { InputError } from "./_io.js";

/** Reads an executable (gzip-compressed ones too) and parses it as a Go binary. */
export async function readGoBinary(path: string, cwd: string): Promise<GoBinary> {
	const full = resolve(cwd, path);
	let bytes: Uint8Array = await readFile(full);
	if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
		try {
			bytes = gunzipSync(bytes);
		} catch (error) {
			const reason = error instanceof Error ? error.message : String(error);
			throw new InputError(`${path}: cannot decompress gzip data: ${reason}`);
		}
	}
	try {
		return parseGoBinary(bytes);
	} catch (error) {
		if (error instanceof BinaryError) throw new InputError(`${path}: ${error.message}`);
		throw error;
	}
}
