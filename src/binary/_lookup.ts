import type { GoBinary } from "./_binary.js";
import { BinaryError, hex } from "./_error.js";
import { addrToOffset } from "./_image.js";
import { printedFuncName, type SourceFrame, tracebackFrames } from "./_inline.js";
import { type FuncRecord, funcFlagAsm, type PcRun, pcdataUnsafePoint } from "./_pclntab.js";

/** A PC resolved to its function and source position. */
export interface Symbolized {
	readonly pc: number;
	/** The function the code belongs to, named as Go's traceback prints it. */
	readonly function: string;
	readonly entry: number;
	/** `pc - entry`, as Go tracebacks print it (`+0x1c`). */
	readonly offset: number;
	/** Position in `function`: for code of an inlined call, the line of that call. */
	readonly file: string;
	readonly line: number;
	/** The inlined calls at `pc`, innermost first, each with its own position. */
	readonly inlined: readonly SourceFrame[];
}

/**
 * Resolves `pc` (a link-time address) to function, offset and file:line as a Go traceback prints
 * a frame there, inlined calls included; `call` says `pc` is a return address (see
 * tracebackFrames). Undefined outside Go code.
 */
export function symbolizePC(bin: GoBinary, pc: number, call = false): Symbolized | undefined {
	const tab = bin.pclntab;
	const i = tab.findFunc(pc);
	if (i < 0) return undefined;
	const f = tab.func(i);
	const frames = tracebackFrames(bin, f, pc, call);
	const { function: name, file, line } = frames[frames.length - 1] as SourceFrame;
	return {
		pc,
		function: name,
		entry: f.entry,
		offset: pc - f.entry,
		file,
		line,
		inlined: frames.slice(0, -1),
	};
}

/** Returns the index of the function named exactly `name`, else the only one ending in `.name`. */
export function findFunctionByName(bin: GoBinary, name: string): number[] {
	const tab = bin.pclntab;
	const exact: number[] = [];
	const suffix: number[] = [];
	for (let i = 0; i < tab.nfunc; i++) {
		const n = tab.func(i).name;
		if (n === name) exact.push(i);
		else if (n.endsWith(`.${name}`) || n.endsWith(`/${name}`)) suffix.push(i);
	}
	return exact.length > 0 ? exact : suffix;
}

/** The binary's function indexes under each name as a traceback prints it (generic shapes share one). */
export function functionsByPrintedName(bin: GoBinary): ReadonlyMap<string, readonly number[]> {
	const tab = bin.pclntab;
	const byName = new Map<string, number[]>();
	for (let i = 0; i < tab.nfunc; i++) {
		const printed = printedFuncName(tab.func(i).name);
		const list = byName.get(printed);
		if (list === undefined) byName.set(printed, [i]);
		else list.push(i);
	}
	return byName;
}

/** The functions printed as `name` that are long enough to hold `offset`. */
export function functionsAt(
	bin: GoBinary,
	byName: ReadonlyMap<string, readonly number[]>,
	name: string,
	offset: number,
): readonly number[] {
	const tab = bin.pclntab;
	return (byName.get(name) ?? []).filter((i) => tab.entry(i) + offset < tab.end(i));
}

/** Lines of one source position: the functions whose code comes from `file:line`. */
export interface LineMatch {
	readonly index: number;
	readonly pcs: readonly number[];
}

/** Finds the functions with code from `line` of a file whose path ends with `file`. */
export function findFunctionsByLine(bin: GoBinary, file: string, line: number): LineMatch[] {
	const tab = bin.pclntab;
	const out: LineMatch[] = [];
	for (let i = 0; i < tab.nfunc; i++) {
		const f = tab.func(i);
		const lines = tab.runs(f.pcln, f.entry, f.end);
		if (!lines.some((r) => r.value === line)) continue;
		const files = tab.runs(f.pcfile, f.entry, f.end);
		const pcs: number[] = [];
		for (const r of lines) {
			if (r.value !== line) continue;
			const fileno = files.find((x) => r.start >= x.start && r.start < x.end)?.value ?? -1;
			const name = tab.fileName(f, fileno);
			if (name === file || name.endsWith(`/${file}`)) pcs.push(r.start);
		}
		if (pcs.length > 0) out.push({ index: i, pcs });
	}
	return out;
}

/** A function's code with the tables that annotate each PC. */
export interface AnnotatedFunction {
	readonly name: string;
	readonly entry: number;
	readonly end: number;
	readonly asm: boolean;
	readonly code: Uint8Array;
	readonly pcsp: readonly PcRun[];
	readonly line: readonly PcRun[];
	/** File runs with the file number already resolved to its name. */
	readonly file: readonly { start: number; end: number; name: string }[];
	readonly unsafePoint: readonly PcRun[];
	readonly record: FuncRecord;
}

/** Returns function `index`'s machine code and its pcsp, file, line and unsafe-point tables. */
export function annotateFunction(bin: GoBinary, index: number): AnnotatedFunction {
	const tab = bin.pclntab;
	const f = tab.func(index);
	const size = f.end - f.entry;
	const offset = addrToOffset(bin.image, f.entry, size);
	if (offset < 0) {
		throw new BinaryError(
			"malformed",
			`Cannot read the code of ${f.name}: ${hex(f.entry)}..${hex(f.end)} is not in the file`,
			0,
			bin.format,
		);
	}
	const up = f.pcdata[pcdataUnsafePoint];
	return {
		name: f.name,
		entry: f.entry,
		end: f.end,
		asm: (f.flag & funcFlagAsm) !== 0 || !f.hasLocalsPointerMaps,
		code: bin.image.reader.slice(offset, size, `code of ${f.name}`),
		pcsp: tab.runs(f.pcsp, f.entry, f.end),
		line: tab.runs(f.pcln, f.entry, f.end),
		file: tab
			.runs(f.pcfile, f.entry, f.end)
			.map((r) => ({ start: r.start, end: r.end, name: tab.fileName(f, r.value) })),
		unsafePoint: up === undefined ? [] : tab.runs(up, f.entry, f.end),
		record: f,
	};
}

/** Returns the value of the run containing `pc`, or undefined. */
export function runValue(runs: readonly PcRun[], pc: number): number | undefined {
	for (const r of runs) if (pc >= r.start && pc < r.end) return r.value;
	return undefined;
}

/**
 * Works out how far a PIE binary was loaded from its link-time addresses, from one crash frame
 * whose function and offset are known (`main.main+0x1c` printed at runtime PC `runtimePC`); a
 * load base is never negative, so a PC below the frame's link address is an error.
 */
export function loadBias(bin: GoBinary, name: string, offset: number, runtimePC: number): number {
	const found = findFunctionByName(bin, name);
	const index = found[0];
	if (index === undefined || found.length > 1) {
		throw new BinaryError(
			"malformed",
			found.length > 1
				? `Function ${name} is ambiguous (${found.length} matches)`
				: `No function ${name} in the binary`,
			0,
			bin.format,
		);
	}
	const link = bin.pclntab.entry(index) + offset;
	if (runtimePC < link) {
		throw new BinaryError(
			"malformed",
			`${name}+${hex(offset)} is ${hex(link)} in the binary, above the printed pc ${hex(runtimePC)}: no load base puts it there (is it the binary that crashed?)`,
			0,
			bin.format,
		);
	}
	return runtimePC - link;
}
