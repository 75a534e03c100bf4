import type { Dice } from "./_random.js";

// Heap, goroutine stack and thread stack addresses of a 64-bit Go process lie between 4 GiB and
// 2^48 (0xc000000000 on amd64, 0x4000000000 on arm64, anywhere since go1.26's heap
// randomisation, thread stacks near 0x7fff00000000); the pcs of these non-PIE binaries lie below.
// Program counters keep their values wherever they are printed (`pc=`, `PC=`, a `pc`/`lr`/`rip`
// register, `called from` in runtime/traceback.go), and so does the same value elsewhere, as in a
// register that holds a C library's pc under cgo.
const ADDRESS = /(?<!\+)0x([0-9a-f]{9,16})\b/g;
const CODE = /(?:pc=|PC=|called from |\b(?:pc|lr|rip)\s+)0x([0-9a-f]{9,16})\b/g;
const LOW = 1n << 32n;
const HIGH = 1n << 48n;
const MMAP = 1n << 46n;
// Goroutine ids where Go prints them (runtime/traceback.go): headers, `created by ... in
// goroutine N`, `[originating from goroutine N]`, `runtime: gN:`. Not `by goroutine N` (race
// reports number goroutines with the race runtime's ids) nor a TAB-indented header, which is
// part of a multi-line panic value since go1.23.
const GOROUTINE = /(?<!\t|by |[A-Za-z_])goroutine (\d{1,9})/g;
const RUNTIME_G = /(runtime: g ?)(\d{1,9})(?=:)/g;
// A goroutine header's state and its extras (runtime/traceback.go goroutineheader): the wait
// reason or status, then `, N minutes`, then `, locked to thread`.
const HEADER = /^(goroutine \d+[^[\n]*\[)([^\],\n]+)((?:, [^\]\n]*)?)\]:/gm;
// Statuses that never show minutes: only a waiting goroutine or one in a syscall has waitsince.
const NOT_WAITING = new Set(["running", "runnable", "dead", "copystack", "preempted", "idle"]);

/**
 * The text as another process of the same binary would have printed it: goroutine ids from 2 up,
 * heap and stack addresses (one shift, a multiple of 1 MiB so that every alignment holds) and wait
 * minutes moved; pcs, offsets and everything else untouched.
 */
export function rewriteText(text: string, dice: Dice): string {
	const idShift = 20 + dice.int(40_000);
	const shift = BigInt(1 + dice.int(0xfff)) << 20n;
	const uptime = dice.float() < 0.3 ? 0 : 1 + dice.int(20_000);
	const withIds = text
		.replace(GOROUTINE, (_, id: string) => `goroutine ${moveId(Number(id), idShift)}`)
		.replace(RUNTIME_G, (_, head: string, id: string) => `${head}${moveId(Number(id), idShift)}`);
	const code = new Set<bigint>();
	for (const m of withIds.matchAll(CODE)) code.add(BigInt(`0x${m[1]}`));
	const withAddresses = withIds.replace(ADDRESS, (whole, hex: string) => {
		const value = BigInt(`0x${hex}`);
		if (value < LOW || value >= HIGH || code.has(value)) return whole;
		const moved = value < MMAP ? value + shift : value - shift;
		return `0x${moved.toString(16).padStart(hex.length, "0")}`;
	});
	return withAddresses.replace(HEADER, (whole, head: string, state: string, extras: string) => {
		const base = state.replace(/ \(scan\)$/, "");
		if (NOT_WAITING.has(base) || uptime === 0 || extras.includes(" minutes")) return whole;
		if (dice.float() < 0.4) return whole;
		return `${head}${state}, ${1 + dice.int(uptime)} minutes${extras}]:`;
	});
}

// Goroutine 0 (g0) and 1 (main) have those ids in every process; later ones are numbered in the
// order they were started, which a long-running process has done many more times.
function moveId(id: number, shift: number): number {
	return id < 2 ? id : id + shift;
}

/**
 * A recovered panic as code that recovers it reports it: the panic value and the stack of the
 * goroutine that panicked, `goroutine N [running]:` and its frames (what `debug.Stack()` prints),
 * cut from a real crash text; null when the text has no panic followed by a goroutine.
 */
export function recoveredText(text: string): string | null {
	const lines = text.split("\n");
	const panicAt = lines.findIndex((l) => l.startsWith("panic: "));
	if (panicAt < 0) return null;
	const headerAt = lines.findIndex((l, i) => i > panicAt && /^goroutine \d+ /.test(l));
	if (headerAt < 0) return null;
	const header = /^goroutine (\d+) /.exec(lines[headerAt] as string)?.[1];
	let endAt = lines.findIndex((l, i) => i > headerAt && l.trim() === "");
	if (endAt < 0) endAt = lines.length;
	let valueEnd = headerAt;
	while (valueEnd > panicAt && (lines[valueEnd - 1] as string).trim() === "") valueEnd--;
	const frames = lines
		.slice(headerAt + 1, endAt)
		.filter((l) => !/^exit status \d+$|^signal: /.test(l));
	return [
		...lines.slice(panicAt, valueEnd),
		"",
		`goroutine ${header} [running]:`,
		...frames,
		"",
	].join("\n");
}
