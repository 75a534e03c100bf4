import { closeSync, fstatSync, openSync } from "node:fs";
import { resolve } from "node:path";
import type { FileSource, GoBinary } from "../binary/index.js";
import { CoreError, type CoreOptions, type CoreReport, readCore } from "../core/index.js";
import { fileSource } from "./_binary-file.js";
import { InputError } from "./_io.js";

/** Reads the core file at `path` (relative to `cwd`) of the Go executable `bin`; errors name the file. */
export function readCoreFile(
	bin: GoBinary,
	path: string,
	cwd: string,
	options: CoreOptions = {},
): CoreReport {
	return withCoreFile(path, cwd, (source) => {
		try {
			return readCore(bin, source, options);
		} catch (error) {
			if (error instanceof CoreError) throw new InputError(`${path}: ${error.message}`);
			throw error;
		}
	});
}

// Opens a core file for positioned reads: a core of several GB is never read whole.
function withCoreFile<T>(path: string, cwd: string, use: (source: FileSource) => T): T {
	const fd = openSync(resolve(cwd, path), "r");
	try {
		return use(fileSource(fd, fstatSync(fd).size, path));
	} finally {
		closeSync(fd);
	}
}
