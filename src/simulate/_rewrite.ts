// Values from 4 GiB up to 2^48 are heap, stack and goroutine addresses in a 64-bit Go process;
// program counters of non-PIE binaries lie below, and pc= and +0x offsets are never touched.
const ADDRESS = /(pc=|\+)?0x([0-9a-f]{9,12})\b/g;
const GOROUTINE = /\b(goroutine |in goroutine |\bg ?)(\d{1,7})\b/g;
const MINUTES = /, (\d{1,6}) minutes\]/g;

/**
 * The text as another process of the same program would have printed it: goroutine ids, heap
 * and stack addresses and wait minutes moved, consistently, by amounts drawn from `r` in [0, 1).
 */
export function rewriteText(text: string, r: number): string {
	const idShift = 1 + Math.floor(r * 400);
	const addressShift = BigInt(1 + Math.floor(r * 0xfff)) * 0x100000n;
	return text
		.replace(ADDRESS, (whole, keep: string | undefined, hex: string) => {
			if (keep !== undefined) return whole;
			const moved = BigInt(`0x${hex}`) + addressShift;
			return moved < 1n << 48n ? `0x${moved.toString(16).padStart(hex.length, "0")}` : whole;
		})
		.replace(GOROUTINE, (_, head: string, id: string) => `${head}${Number(id) + idShift}`)
		.replace(MINUTES, (_, m: string) => `, ${Number(m) + Math.floor(r * 30)} minutes]`);
}

/**
 * A recovered panic as code that recovers reports it: the panic value line and the stack of the
 * goroutine that panicked (what `debug.Stack()` prints), cut from a real crash text.
 */
export function recoveredText(text: string): string {
	const lines = text.split("\n");
	const panicAt = lines.findIndex((l) => l.startsWith("panic: "));
	const stackAt = lines.findIndex((l) => /^goroutine \d+ \[/.test(l));
	if (panicAt < 0 || stackAt < 0) return text;
	let endAt = lines.findIndex((l, i) => i > stackAt && l.trim() === "");
	if (endAt < 0) endAt = lines.length;
	const stack = lines.slice(stackAt, endAt).filter((l) => !/^exit status \d+$/.test(l));
	return [lines[panicAt] as string, "", ...stack, ""].join("\n");
}
