/** One split pair as the peers report it: function and the PC of the second instruction. */
export interface Pair {
	function: string;
	pc: number;
}

/** A function as the debug/gosym oracle lists it. */
export interface OracleFunction {
	entry: number;
	end: number;
	/** `file:line` of the entry PC. */
	position: string;
	name: string;
}

const goInsn = /^\s+\S+:\d+\s+0x([0-9a-f]+)\s+[0-9a-f]+\s+(.*?)\s*$/;
const goAddLo = /^(ADD|SUB) \$(\d+), RSP, RSP$/;
const goAddHi = /^(ADD|SUB) \$\((\d+)<<12\), RSP, RSP$/;

/**
 * Finds `ADD $lo, RSP, RSP` + `ADD $(hi<<12), RSP, RSP` pairs in `go tool objdump` output.
 * Names come from the symbol table: Mach-O symbols of file-local assembly functions
 * (`debugCall65536<>`) keep an underscore that the pclntab name does not have (`macho` = true).
 */
export function goObjdumpPairs(text: string, macho = false): Pair[] {
	const pairs: Pair[] = [];
	let fn = "";
	let prev: { op: string; hi: boolean } | undefined;
	for (const line of text.split("\n")) {
		if (line.startsWith("TEXT ")) {
			// The symbol table names ABI0 assembly functions with a suffix the pclntab does not have.
			fn = line.slice(5, line.indexOf("(SB)")).replace(/\.abi0$/, "");
			if (macho && /^_[^.]*$/.test(fn)) fn = fn.slice(1);
			prev = undefined;
			continue;
		}
		const m = goInsn.exec(line);
		if (m === null) {
			prev = undefined;
			continue;
		}
		const asm = m[2] as string;
		const lo = goAddLo.exec(asm);
		const hi = goAddHi.exec(asm);
		const cur =
			lo !== null
				? { op: lo[1] as string, hi: false }
				: hi !== null
					? { op: hi[1] as string, hi: true }
					: undefined;
		if (cur !== undefined && prev !== undefined && prev.op === cur.op && prev.hi !== cur.hi) {
			pairs.push({ function: fn, pc: Number.parseInt(m[1] as string, 16) });
			prev = undefined;
			continue;
		}
		prev = cur;
	}
	return pairs.sort((a, b) => a.pc - b.pc);
}

/** Parses the oracle's "entry end file:line name" lines. */
export function readOracleFunctions(text: string): OracleFunction[] {
	return text
		.trim()
		.split("\n")
		.map((line) => {
			const [entry, end, position, ...name] = line.split(" ");
			return {
				entry: Number(entry),
				end: Number(end),
				position: position ?? "",
				name: name.join(" "),
			};
		});
}

const gnuInsn = /^\s*([0-9a-f]+):\s+(add|sub)\s+sp, sp, #0x([0-9a-f]+)(, lsl #12)?\s*$/;

/** Finds split pairs in GNU `objdump -d --no-show-raw-insn` output and names them with the oracle. */
export function gnuObjdumpPairs(text: string, funcs: readonly OracleFunction[]): Pair[] {
	const pairs: Pair[] = [];
	let prev: { pc: number; op: string; hi: boolean } | undefined;
	for (const line of text.split("\n")) {
		const m = gnuInsn.exec(line);
		if (m === null) {
			if (/^\s*[0-9a-f]+:/.test(line)) prev = undefined;
			continue;
		}
		const cur = {
			pc: Number.parseInt(m[1] as string, 16),
			op: m[2] as string,
			hi: m[4] !== undefined,
		};
		if (prev !== undefined && prev.pc + 4 === cur.pc && prev.op === cur.op && prev.hi !== cur.hi) {
			const f = funcs.find((x) => cur.pc >= x.entry && cur.pc < x.end);
			// Pairs outside Go functions (C code in cgo binaries) are not Go's to report.
			if (f !== undefined && f.entry <= prev.pc) pairs.push({ function: f.name, pc: cur.pc });
			prev = undefined;
			continue;
		}
		prev = cur;
	}
	return pairs.sort((a, b) => a.pc - b.pc);
}
