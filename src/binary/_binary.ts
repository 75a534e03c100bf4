import { type BuildInfo, readBuildInfo } from "./_buildinfo.js";
import { type FileSource, LazyFile } from "./_bytes.js";
import { isElf, parseElf } from "./_elf.js";
import { BinaryError } from "./_error.js";
import type { Arch, Image } from "./_image.js";
import { isMachO, parseMachO } from "./_macho.js";
import { type Pclntab, readPclntab } from "./_pclntab.js";
import { isPe, parsePe } from "./_pe.js";

/** A Go executable, read: its container, buildinfo and function table. */
export interface GoBinary {
	readonly image: Image;
	readonly format: "elf" | "macho" | "pe";
	readonly arch: Arch;
	readonly buildInfo: BuildInfo | undefined;
	readonly pclntab: Pclntab;
}

/**
 * Parses only the container (ELF, Mach-O or PE) of a file: all its bytes, or a source that the
 * readers then ask for the ranges they need (headers, tables, code) as they need them.
 */
export function parseImage(input: Uint8Array | FileSource): Image {
	return guard(() => {
		const file = input instanceof Uint8Array ? input : new LazyFile(input);
		const bytes = file instanceof LazyFile ? file.bytes : file;
		if (file instanceof LazyFile) file.load(0, 8);
		if (isElf(bytes)) return parseElf(file);
		if (isMachO(bytes)) return parseMachO(file);
		if (isPe(bytes)) return parsePe(file);
		throw new BinaryError(
			"bad-magic",
			"Not an ELF, Mach-O or PE file (unknown magic at offset 0x0)",
			0,
			"unknown",
		);
	});
}

/** Runs a reader, turning an out-of-range typed-array access into the documented error. */
export function guard<T>(read: () => T): T {
	try {
		return read();
	} catch (error) {
		if (error instanceof RangeError) {
			throw new BinaryError("truncated", `Cannot read file: ${error.message}`, 0, "unknown");
		}
		throw error;
	}
}

/** Parses a Go executable (all its bytes, or a source read on demand): container, buildinfo (when present) and pclntab. */
export function parseGoBinary(input: Uint8Array | FileSource): GoBinary {
	return guard(() => {
		const image = parseImage(input);
		const format = image.format;
		if (format === "unknown") throw new BinaryError("bad-magic", "Unknown container", 0, format);
		const buildInfo = readBuildInfo(image);
		const pclntab = readPclntab(image);
		return { image, format, arch: image.arch, buildInfo, pclntab };
	});
}
