/** The container formats gocrash reads; `unknown` before the format is known. */
export type BinaryFormat = "elf" | "macho" | "pe" | "unknown";

/** Stable reasons a binary could not be read. */
export type BinaryErrorCode =
	| "truncated"
	| "bad-magic"
	| "malformed"
	| "unsupported"
	| "not-go"
	| "no-pclntab"
	| "no-text";

/** The one error the binary readers throw: what could not be read, where, in which format. */
export class BinaryError extends Error {
	override readonly name = "BinaryError";
	readonly code: BinaryErrorCode;
	readonly offset: number;
	readonly format: BinaryFormat;

	constructor(code: BinaryErrorCode, message: string, offset: number, format: BinaryFormat) {
		super(message);
		this.code = code;
		this.offset = offset;
		this.format = format;
	}
}

/** Formats a number as the binary's own hex, e.g. `0x1f40`. */
export function hex(n: number | bigint): string {
	return `0x${n.toString(16)}`;
}
