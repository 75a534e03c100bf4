import type { GoBinary } from "./_binary.js";
import { BinaryError, hex } from "./_error.js";
import { readAddr } from "./_image.js";
import { findModuledata, readModuledata } from "./_moduledata.js";
import { type FuncRecord, pcdataInlTreeIndex } from "./_pclntab.js";

/** One function of a traceback frame and the source position it prints. */
export interface SourceFrame {
	/** The name as Go's traceback prints it (`panic` for runtime.gopanic, `F[...]` for generics). */
	readonly function: string;
	readonly file: string;
	readonly line: number;
	/** An inlined call: the traceback prints it without `+offset` and `pc=`. */
	readonly inlined: boolean;
}

/** Go's traceback spelling of a function name (runtime/traceback.go printFuncName). */
export function printedFuncName(name: string): string {
	if (name === "runtime.gopanic") return "panic";
	const i = name.indexOf("[");
	const j = name.lastIndexOf("]");
	return i < 0 || j <= i ? name : `${name.slice(0, i)}[...]${name.slice(j + 1)}`;
}

const gofuncs = new WeakMap<GoBinary, number>();

// FUNCDATA offsets (Go 1.18+) count from moduledata.gofunc, also named by the go:func.* symbol.
function gofunc(bin: GoBinary): number {
	let base = gofuncs.get(bin);
	if (base !== undefined) return base;
	const { image, pclntab: tab } = bin;
	base = image.symbols.get("go:func.*") ?? image.symbols.get("go.func.*");
	if (base === undefined) {
		const md = findModuledata(image, tab.addr, tab.ptrSize);
		if (md === undefined) {
			throw new BinaryError(
				"malformed",
				`Cannot read inline trees: no moduledata points at pclntab ${hex(tab.addr)}`,
				0,
				image.format,
			);
		}
		base = readModuledata(image, md, tab.version, tab.ptrSize).gofunc;
	}
	gofuncs.set(bin, base);
	return base;
}

const maxInlineDepth = 1000;

/**
 * The functions Go's traceback prints for one frame at `pc` (runtime/symtabinl.go
 * inlineUnwinder): innermost inlined call first, the function the code belongs to last. A return
 * address (`call`) is looked up at `pc - 1`, inside its call instruction, as the traceback does
 * for every frame but one stopped by a signal (the frame below runtime.sigpanic or asyncPreempt).
 */
export function tracebackFrames(
	bin: GoBinary,
	f: FuncRecord,
	pc: number,
	call: boolean,
): SourceFrame[] {
	const tab = bin.pclntab;
	// A pcdata offset of 0 is no table: nothing was inlined.
	const indexTable = f.pcdata[pcdataInlTreeIndex] ?? 0;
	const tree =
		f.inlTree === undefined || indexTable === 0
			? undefined
			: tab.version === "1.18" || tab.version === "1.20"
				? gofunc(bin) + f.inlTree
				: f.inlTree;
	// Go 1.20+: {funcID u8, _ [3]u8, nameOff i32, parentPc i32, startLine i32}; Go 1.12–1.19:
	// {parent i16, funcID u8, _ u8, file i32, line i32, nameOff i32, parentPc i32}.
	const size = tab.version === "1.20" ? 16 : 20;
	const frames: SourceFrame[] = [];
	let at = call && pc > f.entry ? pc - 1 : pc;
	for (let depth = 0; depth < maxInlineDepth; depth++) {
		const { file, line } = tab.fileLine(f, at);
		const index = tree === undefined ? -1 : (tab.valueAt(indexTable, f.entry, f.end, at) ?? -1);
		if (tree === undefined || index < 0) {
			frames.push({ function: printedFuncName(f.name), file, line, inlined: false });
			return frames;
		}
		const rec = readAddr(bin.image, tree + index * size, size, `inline tree of ${f.name}`);
		const view = new DataView(rec.buffer, rec.byteOffset, size);
		const le = bin.image.reader.littleEndian;
		const nameOff = view.getInt32(size === 16 ? 4 : 12, le);
		const parentPc = view.getInt32(size === 16 ? 8 : 16, le);
		frames.push({ function: printedFuncName(tab.funcName(nameOff)), file, line, inlined: true });
		if (parentPc < 0 || f.entry + parentPc >= f.end) {
			throw new BinaryError(
				"malformed",
				`Inline tree of ${f.name}: call ${index} has parent pc ${hex(parentPc)} outside the function`,
				0,
				bin.format,
			);
		}
		at = f.entry + parentPc;
	}
	throw new BinaryError(
		"malformed",
		`Inline tree of ${f.name}: more than ${maxInlineDepth} nested calls at ${hex(pc)}`,
		0,
		bin.format,
	);
}
