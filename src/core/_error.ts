/** Stable reasons a core file could not be read. */
export type CoreErrorCode =
	| "truncated"
	| "bad-magic"
	| "malformed"
	| "unsupported"
	| "unmapped"
	| "mismatch";

/** The one error the core readers throw: what could not be read, and where in the core file. */
export class CoreError extends Error {
	override readonly name = "CoreError";
	readonly code: CoreErrorCode;
	/** Offset in the core file, or the memory address for `unmapped`; 0 when neither applies. */
	readonly offset: number;

	constructor(code: CoreErrorCode, message: string, offset: number) {
		super(message);
		this.code = code;
		this.offset = offset;
	}
}

/** Formats a number as hex, e.g. `0x1f40`. */
export function hex(n: number | bigint): string {
	return `0x${n.toString(16)}`;
}
