import { createRequire } from "node:module";
import {
	type AnnotatedFunction,
	annotateFunction,
	findFunctionByName,
	findFunctionsByLine,
	formatPC,
	type GoBinary,
	runValue,
	type SplitSP,
	scanSplitSP,
} from "../binary/index.js";
import { readGoBinary } from "./_binary-file.js";
import type { Command } from "./_io.js";
import { InputError, parseCommandArgs, UsageError } from "./_io.js";
import { type Style, styleFor } from "./_style.js";
import { alignColumns } from "./_table.js";

const usage = `usage: gocrash disasm BINARY (FUNCTION|PC|FILE:LINE)

Disassembles one Go function (arm64, amd64, 386, arm, ppc64, s390x, riscv64) with Capstone and annotates every instruction
with its file:line, pcsp (bytes SP is below its value at entry, as the unwinder believes) and
async-preemption state (unsafe, restart1, restart2, restart-at-entry; unmarked instructions in Go
code are async-preemption points); split SP adjustments (golang/go#73259) are marked.

  FUNCTION   full name (main.bigStack) or a unique suffix (bigStack, (*T).M)
  PC         hex address inside the function (0x7f4a8)
  FILE:LINE  every function with code from that line (main.go:67, nl/nl_linux.go:729)
`;

/** `gocrash disasm`: one function's annotated disassembly. */
export const disasmCommand: Command = {
	name: "disasm",
	summary: "disassemble a function with file:line, pcsp and preemption annotations",
	usage,
	async run(args, io) {
		const { positionals } = parseCommandArgs(args, {});
		const [path, query, ...extra] = positionals;
		if (path === undefined || query === undefined || extra.length > 0) {
			throw new UsageError("need a binary and one FUNCTION, PC or FILE:LINE");
		}
		const bin = await readGoBinary(path, io.cwd);
		const targets = resolve(bin, query, path);
		const cs = await loadCapstone();
		const style = styleFor(io.stdout.isTTY, io.env);
		for (const { index, marks } of targets) {
			const f = annotateFunction(bin, index);
			const splits =
				bin.arch === "arm64"
					? scanSplitSP(bin.image, bin.pclntab, { start: f.entry, end: f.end }).splits
					: [];
			io.stdout.write(formatFunction(bin, f, splits, marks, cs, style));
		}
		return 0;
	},
};

function resolve(
	bin: GoBinary,
	query: string,
	path: string,
): { index: number; marks: ReadonlySet<number> }[] {
	if (/^0x[0-9a-fA-F]{1,16}$/.test(query)) {
		const pc = Number.parseInt(query.slice(2), 16);
		const index = bin.pclntab.findFunc(pc);
		if (index < 0) throw new InputError(`${path}: ${query} is not in any Go function`);
		return [{ index, marks: new Set([pc]) }];
	}
	const fileLine = /^(.+\.(?:go|s)):(\d{1,9})$/.exec(query);
	if (fileLine !== null) {
		const found = findFunctionsByLine(bin, fileLine[1] as string, Number(fileLine[2]));
		if (found.length === 0) throw new InputError(`${path}: no code from ${query}`);
		return found.map((m) => ({ index: m.index, marks: new Set(m.pcs) }));
	}
	const found = findFunctionByName(bin, query);
	if (found.length === 0) throw new InputError(`${path}: no function ${query}`);
	if (found.length > 1) {
		const names = found.slice(0, 5).map((i) => bin.pclntab.func(i).name);
		throw new UsageError(`'${query}' matches ${found.length} functions: ${names.join(", ")}…`);
	}
	return [{ index: found[0] as number, marks: new Set() }];
}

const unsafeNames: Readonly<Record<number, string>> = {
	[-1]: "",
	[-2]: "unsafe",
	[-3]: "restart1",
	[-4]: "restart2",
	[-5]: "restart-at-entry",
};

function formatFunction(
	bin: GoBinary,
	f: AnnotatedFunction,
	splits: readonly SplitSP[],
	marks: ReadonlySet<number>,
	cs: Disassembler,
	style: Style,
): string {
	const byPC = new Map(splits.map((s) => [s.pc, s]));
	const file = f.file[0]?.name ?? "?";
	const kind = f.asm ? "assembly, never async-preempted" : "Go";
	const out = [
		style.bold(`TEXT ${f.name}(SB) ${file}`) +
			style.dim(`  [${formatPC(f.entry)}, ${formatPC(f.end)}) ${kind}`),
	];
	const rows: string[][] = [];
	const notes: (string | undefined)[] = [];
	for (const insn of cs.disasm(bin.arch, f.code, f.entry)) {
		const pc = insn.address;
		const fileName = runValueName(f, pc);
		const line = runValue(f.line, pc) ?? 0;
		const sp = runValue(f.pcsp, pc);
		const up = runValue(f.unsafePoint, pc) ?? -1;
		rows.push([
			marks.has(pc) ? "→" : " ",
			`${fileName.slice(fileName.lastIndexOf("/") + 1)}:${line}`,
			formatPC(pc),
			insn.bytes,
			insn.text,
			sp === undefined ? "sp=?" : `sp=${formatPC(sp)}`,
			f.asm ? "" : (unsafeNames[up] ?? `up=${up}`),
		]);
		const split = byPC.get(pc);
		notes.push(
			split === undefined
				? undefined
				: `◀ SPLIT SP: real SP is ${formatPC(split.frameSize - split.deltas[0])} below entry, pcsp says ${formatPC(split.frameSize)}; ${split.preemptible ? "async-preemptible" : "not preemptible"}`,
		);
	}
	alignColumns(rows).forEach((text, i) => {
		const note = notes[i];
		out.push(note === undefined ? `  ${text}` : style.red(`  ${text}  ${note}`));
	});
	return `${out.join("\n")}\n\n`;
}

function runValueName(f: AnnotatedFunction, pc: number): string {
	for (const r of f.file) if (pc >= r.start && pc < r.end) return r.name;
	return "?";
}

interface Instruction {
	readonly address: number;
	readonly bytes: string;
	readonly text: string;
}

interface Disassembler {
	disasm(arch: string, code: Uint8Array, address: number): Instruction[];
}

interface CapstoneInsn {
	address: bigint;
	size: number;
	mnemonic: string;
	op_str: string;
}

interface CapstoneModule {
	ARCH_ARM: number;
	ARCH_ARM64: number;
	ARCH_X86: number;
	ARCH_PPC: number;
	ARCH_SYSZ: number;
	ARCH_RISCV: number;
	MODE_ARM: number;
	MODE_32: number;
	MODE_64: number;
	MODE_BIG_ENDIAN: number;
	MODE_RISCV64: number;
	MODE_RISCVC: number;
	Capstone: new (
		arch: number,
		mode: number,
	) => {
		disasm(code: Uint8Array, address: number): CapstoneInsn[];
		errno(): number;
		close(): void;
	};
}

let capstone: Promise<CapstoneModule> | undefined;

// Capstone's WebAssembly build (npm @alexaltea/capstone-js) is CommonJS; it loads its .wasm from
// its own directory, so it works offline.
async function loadCapstone(): Promise<Disassembler> {
	if (capstone === undefined) {
		const require = createRequire(import.meta.url);
		const factory = require("@alexaltea/capstone-js") as () => Promise<CapstoneModule>;
		capstone = factory();
	}
	const cs = await capstone;
	return {
		disasm(arch, code, address) {
			const target = targets(cs)[arch];
			if (target === undefined)
				throw new InputError(`disassembly of ${arch} code is not supported`);
			const [csArch, mode, unit] = target;
			const d = new cs.Capstone(csArch, mode);
			try {
				return disassembleAll(d, code, address, unit, arch === "arm64" || arch === "arm");
			} finally {
				d.close();
			}
		},
	};
}

// Capstone architecture, mode and the size of an undecodable unit, by Go GOARCH.
function targets(cs: CapstoneModule): Readonly<Record<string, readonly [number, number, number]>> {
	return {
		arm64: [cs.ARCH_ARM64, cs.MODE_ARM, 4],
		arm: [cs.ARCH_ARM, cs.MODE_ARM, 4],
		amd64: [cs.ARCH_X86, cs.MODE_64, 1],
		"386": [cs.ARCH_X86, cs.MODE_32, 1],
		ppc64: [cs.ARCH_PPC, cs.MODE_64 + cs.MODE_BIG_ENDIAN, 4],
		s390x: [cs.ARCH_SYSZ, cs.MODE_BIG_ENDIAN, 2],
		riscv64: [cs.ARCH_RISCV, cs.MODE_RISCV64 + cs.MODE_RISCVC, 2],
	};
}

type Decoder = InstanceType<CapstoneModule["Capstone"]>;

// Capstone stops at the first byte sequence it cannot decode; show it as data and go on.
function disassembleAll(
	d: Decoder,
	code: Uint8Array,
	address: number,
	unit: number,
	littleEndianWords: boolean,
): Instruction[] {
	const out: Instruction[] = [];
	let at = 0;
	while (at < code.length) {
		const batch = decodeFrom(d, code.subarray(at), address + at);
		for (const insn of batch) {
			const off = Number(insn.address) - address;
			out.push({
				address: Number(insn.address),
				bytes: hexBytes(code.subarray(off, off + insn.size), littleEndianWords),
				text: `${insn.mnemonic} ${insn.op_str}`.trim(),
			});
			at = off + insn.size;
		}
		if (at < code.length) {
			const n = Math.min(unit, code.length - at);
			out.push({
				address: address + at,
				bytes: hexBytes(code.subarray(at, at + n), littleEndianWords),
				text: "(undecodable)",
			});
			at += n;
		}
	}
	return out;
}

// Capstone.js throws, rather than return no instructions, when the very first bytes do not
// decode; its error code then is CS_ERR_OK (0): the bytes are data, not a failure.
function decodeFrom(d: Decoder, code: Uint8Array, address: number): CapstoneInsn[] {
	try {
		return d.disasm(code, address);
	} catch (error) {
		if (d.errno() === 0) return [];
		throw error;
	}
}

function hexBytes(b: Uint8Array, littleEndianWords: boolean): string {
	if (littleEndianWords && b.length === 4) {
		// arm/arm64 words as `go tool objdump` prints them (the little-endian value).
		return [3, 2, 1, 0].map((i) => (b[i] as number).toString(16).padStart(2, "0")).join("");
	}
	return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}
