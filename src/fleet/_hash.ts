const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

/**
 * 64-bit FNV-1a of the text's UTF-8 bytes as 16 hex digits: written here rather than taken from
 * node:crypto so that the module runs anywhere (the dashboard too) and an id never depends on
 * the platform.
 */
export function hash64(text: string): string {
	let h = FNV_OFFSET;
	for (const byte of new TextEncoder().encode(text)) {
		h ^= BigInt(byte);
		h = (h * FNV_PRIME) & MASK;
	}
	return h.toString(16).padStart(16, "0");
}
