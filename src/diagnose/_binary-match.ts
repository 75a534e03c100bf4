import {
	BinaryError,
	formatPC,
	functionsAt,
	functionsByPrintedName,
	type GoBinary,
	symbolizePC,
} from "../binary/index.js";
import type { Fact } from "../knowledge/index.js";
import type { Frame, ParseResult } from "../traceback/index.js";
import { inferEnvironment } from "./_environment.js";

/** One fact both the crash text and the binary state, and whether they agree. */
export interface ComparedFact {
	readonly text: string;
	/** Where in the text it was read. */
	readonly textSource: string;
	readonly binary: string;
	readonly agrees: boolean;
}

/** Whether a binary given with `--binary` is the one that printed a crash, and what differs. */
export interface BinaryMatch {
	readonly name: string;
	/** False when any fact differs: then nothing read from the binary is used as evidence. */
	readonly matches: boolean;
	/** What differs, one phrase each, e.g. `binary is go1.26.10, crash is go1.24.4`. */
	readonly differences: readonly string[];
	readonly goVersion: ComparedFact | null;
	readonly goarch: ComparedFact | null;
	/** Frames printed with a `+0x` offset, each checked against the binary's function table. */
	readonly frames: number;
	/** Printed pc minus the binary's address, the same for every frame; null when no frame printed pc=. */
	readonly loadBase: number | null;
	/** The first frame that gave the load base, e.g. `main.f+0x1c pc=0x4a1b2c`; null with it. */
	readonly loadBaseFrame: string | null;
	readonly pie: boolean;
}

const PAGE = 0x1000;
// An unindented line naming a Go release: `splitsp: go1.24.4 linux/arm64`, `built with go1.22.3`.
const VERSION_MENTION = /\bgo(1\.\d{1,3}(?:\.\d{1,3}|(?:rc|beta)\d{1,3})?)\b/g;

/** One physical frame of the text as the traceback printed it (inlined frames print no offset). */
interface PrintedFrame {
	readonly frame: Frame;
	readonly offset: number;
}

function printedFrames(result: ParseResult): PrintedFrame[] {
	const out: PrintedFrame[] = [];
	const add = (f: Frame): void => {
		if (!f.inlined && f.offset !== null) out.push({ frame: f, offset: f.offset });
	};
	for (const c of result.crashes) {
		for (const f of c.runtimeStack) add(f);
		for (const g of c.goroutines) {
			for (const f of g.frames) add(f);
			if (g.createdBy !== null) add(g.createdBy.frame);
		}
	}
	return out;
}

/** The Go release the text names: a GOROOT path, else the only release an unindented line mentions. */
function textGoVersion(fromPaths: Fact | null, notes: readonly string[]): Fact | null {
	if (fromPaths !== null) return fromPaths;
	const seen = new Map<string, string>();
	for (const note of notes) {
		for (const m of note.matchAll(VERSION_MENTION)) {
			if (m[1] !== undefined && !seen.has(m[1])) seen.set(m[1], note);
		}
	}
	const [only] = seen;
	return seen.size === 1 && only !== undefined
		? { value: only[0], source: `line "${only[1].slice(0, 120)}"` }
		: null;
}

/** `1.24` names every go1.24.x; `1.24.4` only itself. */
function sameRelease(text: string, binary: string): boolean {
	return (
		binary === text ||
		binary.startsWith(`${text}.`) ||
		binary.startsWith(`${text}rc`) ||
		binary.startsWith(`${text}beta`)
	);
}

function sameFile(printed: string, binary: string): boolean {
	return printed === binary || printed.endsWith(`/${binary}`) || binary.endsWith(`/${printed}`);
}

function compare(
	text: Fact | null,
	binary: string,
	same: (t: string) => boolean,
): ComparedFact | null {
	return text === null || binary === ""
		? null
		: { text: text.value, textSource: text.source, binary, agrees: same(text.value) };
}

function ofFrames(n: number, total: number, what: string): string {
	return `${n} of ${total} frames' ${what}`;
}

/**
 * Checks that `bin` is the binary that printed the crashes: the Go release and GOARCH the text
 * shows, and every frame printed with `+0x` offset: its function must be in the binary with the
 * offset inside it, its file:line must be what the binary's line table says there, and the frames
 * that printed pc= must all give one load base (0 unless the binary is position-independent).
 */
export function matchBinary(
	result: ParseResult,
	notes: readonly string[],
	name: string,
	bin: GoBinary,
): BinaryMatch {
	const differences: string[] = [];
	// Only the text: no flags, no binary.
	const fromText = inferEnvironment(result, []);
	const binVersion = (bin.buildInfo?.goVersion ?? "").replace(/^go/, "").split(" ")[0] ?? "";
	const goVersion = compare(textGoVersion(fromText.goVersion, notes), binVersion, (t) =>
		sameRelease(t, binVersion),
	);
	if (goVersion !== null && !goVersion.agrees)
		differences.push(`binary is go${goVersion.binary}, crash is go${goVersion.text}`);
	const binArch = bin.arch === "other" ? "" : bin.arch;
	// One ELF machine, and so one Arch, covers ppc64 and ppc64le.
	const goarch = compare(fromText.goarch, binArch, (t) => t.replace(/le$/, "") === binArch);
	if (goarch !== null && !goarch.agrees)
		differences.push(`binary is ${goarch.binary}, crash is ${goarch.text}`);
	// A text that names no GOARCH may still rule the binary's out (where its heap is).
	const excluded = fromText.goarchExcluded ?? null;
	if (goarch === null && excluded?.values.includes(binArch) === true)
		differences.push(`binary is ${binArch}, crash is not (${excluded.source})`);

	const tab = bin.pclntab;
	const byName = functionsByPrintedName(bin);
	const frames = printedFrames(result);
	let missing = 0;
	let outside = 0;
	let lineDiffers = 0;
	let lineExample = "";
	const bases = new Map<number, { count: number; frame: string }>();
	const lineCache = new Map<string, string | null>();
	for (const { frame, offset } of frames) {
		const candidates = functionsAt(bin, byName, frame.function, offset);
		if (candidates.length === 0) {
			if (byName.has(frame.function)) outside++;
			else missing++;
			continue;
		}
		const index = candidates[0] as number;
		const pc = hexValue(frame.pc);
		// Generic functions print one name for every shape: only an unambiguous one places the pc.
		if (pc !== undefined && candidates.length === 1) {
			const base = pc - (tab.entry(index) + offset);
			const seen = bases.get(base);
			if (seen === undefined)
				bases.set(base, {
					count: 1,
					frame: `${frame.function}+${formatPC(offset)} pc=${frame.pc}`,
				});
			else seen.count++;
		}
		if (frame.file === null || frame.line === null) continue;
		const key = `${frame.function}+${offset}@${frame.file}:${frame.line}`;
		let differs = lineCache.get(key);
		if (differs === undefined) {
			differs = lineDifference(bin, candidates, offset, frame.file, frame.line);
			lineCache.set(key, differs);
		}
		if (differs !== null) {
			lineDiffers++;
			if (lineExample === "")
				lineExample = `${frame.function}+0x${offset.toString(16)}: crash says ${frame.file}:${frame.line}, binary ${differs}`;
		}
	}
	const total = frames.length;
	if (missing > 0)
		differences.push(`${ofFrames(missing, total, "functions")} are not in the binary`);
	if (outside > 0)
		differences.push(`${ofFrames(outside, total, "offsets")} are past the end of their function`);
	if (lineDiffers > 0)
		differences.push(
			`${ofFrames(lineDiffers, total, "file:line")} differ from the binary's (${lineExample})`,
		);
	const ranked = [...bases].sort((a, b) => b[1].count - a[1].count);
	const [best] = ranked;
	const loadBase = best === undefined ? null : best[0];
	if (ranked.length > 1) {
		differences.push(
			`the frames' pc= and offsets give ${ranked.length} different load bases (the binary that crashed gives one)`,
		);
	} else if (loadBase !== null && loadBase !== 0) {
		if (!bin.image.pie)
			differences.push(
				`the binary is not position-independent, yet the frames' pc= are ${describeBase(loadBase)} its addresses`,
			);
		else if (loadBase < 0)
			differences.push(
				`the frames' pc= are ${describeBase(loadBase)} the binary's addresses, where no load base puts them`,
			);
		else if (loadBase % PAGE !== 0)
			differences.push(
				`the frames' pc= give load base ${formatPC(loadBase)}, which is not page-aligned`,
			);
	}
	return {
		name,
		matches: differences.length === 0,
		differences,
		goVersion,
		goarch,
		frames: total,
		loadBase: differences.length === 0 ? loadBase : null,
		loadBaseFrame: differences.length === 0 && best !== undefined ? best[1].frame : null,
		pie: bin.image.pie,
	};
}

/** `0x5290 above` / `0x5290 below` (a non-zero difference of addresses), never a negative number. */
function describeBase(base: number): string {
	return `${formatPC(Math.abs(base))} ${base < 0 ? "below" : "above"}`;
}

/**
 * Null when the binary places `function+offset` at the printed file:line, else where it places it.
 * The printed line is the pc's own for a frame a signal stopped and the call's (pc-1) for the
 * others (runtime/traceback.go symPC); both are accepted, so the caller need not know which.
 */
function lineDifference(
	bin: GoBinary,
	candidates: readonly number[],
	offset: number,
	file: string,
	line: number,
): string | null {
	let seen: string | null = null;
	for (const i of candidates) {
		const pc = bin.pclntab.entry(i) + offset;
		for (const call of [true, false]) {
			let at: { file: string; line: number } | undefined;
			try {
				at = symbolizePC(bin, pc, call);
			} catch (error) {
				// No inline tree to read (an unusual layout): the line cannot be checked.
				if (error instanceof BinaryError) return null;
				throw error;
			}
			if (at === undefined) continue;
			if (at.line === line && sameFile(file, at.file)) return null;
			seen ??= `${at.file}:${at.line}`;
		}
	}
	return seen;
}

/** A printed hex address (`pc=0x4a1b2c`) as a number; undefined when it is not one. */
export function hexValue(text: string | null): number | undefined {
	return text !== null && /^0x[0-9a-fA-F]{1,13}$/.test(text) ? Number(text) : undefined;
}

/** One line for people: the binary does not match the crash, what differs, and that it was left out. */
export function formatBinaryMismatch(m: BinaryMatch): string {
	return `${m.name} does not match this crash: ${m.differences.join("; ")}; it is left out of the evidence`;
}
