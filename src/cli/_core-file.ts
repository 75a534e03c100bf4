import { closeSync, fstatSync, openSync } from "node:fs";
import { resolve } from "node:path";
import type { FileSource, GoBinary } from "../binary/index.js";
import {
	CoreError,
	type CoreOptions,
	type CoreReport,
	type CoreScan,
	readCore,
	scanCore,
} from "../core/index.js";
import { fileSource } from "./_binary-file.js";
import { InputError } from "./_io.js";

/** Reads the core file at `path` (relative to `cwd`) of the Go executable `bin`; errors name the file. */
export function readCoreFile(
	bin: GoBinary,
	path: string,
	cwd: string,
	options: CoreOptions = {},
): CoreReport {
	return withCoreFile(path, cwd, (source) =>
		namingFile(path, () => readCore(bin, source, options)),
	);
}

/**
 * Opens the core file at `path` of `bin` and gives it to `use`, which scans its goroutines while
 * the file is open; errors, during the scan too, name the file.
 */
export async function scanCoreFile<T>(
	bin: GoBinary,
	path: string,
	cwd: string,
	options: CoreOptions,
	use: (scan: CoreScan) => Promise<T>,
): Promise<T> {
	const file = openCoreFile(path, cwd);
	try {
		return await use(scanCore(bin, file.source, options));
	} catch (error) {
		if (error instanceof CoreError) throw new InputError(`${path}: ${error.message}`);
		throw error;
	} finally {
		file.close();
	}
}

function namingFile<T>(path: string, read: () => T): T {
	try {
		return read();
	} catch (error) {
		if (error instanceof CoreError) throw new InputError(`${path}: ${error.message}`);
		throw error;
	}
}

// Opens a core file for positioned reads: a core of several GB is never read whole.
function withCoreFile<T>(path: string, cwd: string, use: (source: FileSource) => T): T {
	const file = openCoreFile(path, cwd);
	try {
		return use(file.source);
	} finally {
		file.close();
	}
}

function openCoreFile(path: string, cwd: string): { source: FileSource; close: () => void } {
	const fd = openSync(resolve(cwd, path), "r");
	try {
		return { source: fileSource(fd, fstatSync(fd).size, path), close: () => closeSync(fd) };
	} catch (error) {
		closeSync(fd);
		throw error;
	}
}
