// Normalises what each tool found into sorted "pc function" lines, so that the benchmark can
// check that gocrash and the disassembler pipelines found the same split pairs.
// Usage: node bench/scan-pairs.mjs gocrash SCAN.json
//        node bench/scan-pairs.mjs go-objdump OBJDUMP.txt
//        node bench/scan-pairs.mjs gnu-objdump GREPPED.txt ORACLE.txt
import { readFileSync } from "node:fs";

const [kind, file, oracle] = process.argv.slice(2);
const text = readFileSync(file, "utf8");
const pairs = [];

if (kind === "gocrash") {
	for (const s of JSON.parse(text).splitSP) pairs.push([Number.parseInt(s.pc, 16), s.function]);
} else if (kind === "go-objdump") {
	// `ADD $lo, RSP, RSP` directly followed by `ADD $(hi<<12), RSP, RSP` (or the SUB pair).
	let fn = "";
	let prev;
	for (const line of text.split("\n")) {
		if (line.startsWith("TEXT ")) {
			fn = line.slice(5, line.indexOf("(SB)")).replace(/\.abi0$/, "");
			prev = undefined;
			continue;
		}
		const m =
			/^\s+\S+:\d+\s+0x([0-9a-f]+)\s+[0-9a-f]+\s+(ADD|SUB) \$(\(\d+<<12\)|\d+), RSP, RSP\s*$/.exec(
				line,
			);
		const cur = m && { pc: Number.parseInt(m[1], 16), op: m[2], hi: m[3].startsWith("(") };
		if (cur && prev && prev.pc + 4 === cur.pc && prev.op === cur.op && prev.hi !== cur.hi) {
			pairs.push([cur.pc, fn]);
			prev = undefined;
		} else prev = cur ?? undefined;
	}
} else if (kind === "gnu-objdump") {
	const funcs = readFileSync(oracle, "utf8")
		.trim()
		.split("\n")
		.map((l) => l.split(" "))
		.map(([entry, end, _position, ...name]) => [Number(entry), Number(end), name.join(" ")]);
	let prev;
	for (const line of text.split("\n")) {
		const m = /^\s*([0-9a-f]+):\s+(add|sub)\s+sp, sp, #0x[0-9a-f]+(, lsl #12)?\s*$/.exec(line);
		if (!m) continue;
		const cur = { pc: Number.parseInt(m[1], 16), op: m[2], hi: m[3] !== undefined };
		if (prev && prev.pc + 4 === cur.pc && prev.op === cur.op && prev.hi !== cur.hi) {
			let lo = 0;
			let hi = funcs.length;
			while (hi - lo > 1) {
				const mid = (lo + hi) >> 1;
				if (funcs[mid][0] <= cur.pc) lo = mid;
				else hi = mid;
			}
			const f = funcs[lo];
			if (f && f[0] <= prev.pc && cur.pc < f[1]) pairs.push([cur.pc, f[2]]);
			prev = undefined;
		} else prev = cur;
	}
} else {
	throw new Error(`unknown kind ${kind}`);
}

pairs.sort((a, b) => a[0] - b[0]);
process.stdout.write(pairs.map(([pc, fn]) => `0x${pc.toString(16)} ${fn}\n`).join(""));
