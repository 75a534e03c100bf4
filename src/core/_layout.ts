import { type GoBinary, type Image, parseGoVersion, readDwarfStructs } from "../binary/index.js";
import { CoreError } from "./_error.js";

/**
 * Byte offsets of the runtime's fields that gocrash reads from a core (64-bit targets; the
 * structs hold only words and smaller fields, so amd64 and arm64 agree). They come from the
 * binary's DWARF (runtime.g, runtime.stack, runtime.gobuf and runtime.m) when it has them, else
 * from a table per Go version, for binaries built with -ldflags=-w. test/binaries/core.test.ts
 * and core-arm64.test.ts check that the table equals the DWARF of the binaries every Debian
 * toolchain builds, and the DWARF reader against gdb.
 */
export interface RuntimeLayout {
	/**
	 * runtime.g: stack (lo, hi), m, sched (gobuf), syscallsp, syscallpc, atomicstatus, goid,
	 * waitreason, lockedm, gopc (the go statement's return address) and parentGoid (Go 1.21+).
	 */
	readonly g: {
		readonly stackLo: number;
		readonly stackHi: number;
		readonly m: number;
		readonly sched: number;
		readonly syscallsp: number;
		readonly syscallpc: number;
		readonly atomicstatus: number;
		readonly goid: number;
		readonly waitreason: number;
		readonly lockedm: number;
		readonly gopc: number;
		readonly parentGoid: number | null;
	};
	/** runtime.gobuf, relative to its start. */
	readonly gobuf: {
		readonly sp: number;
		readonly pc: number;
		readonly lr: number;
		readonly bp: number;
	};
	/** runtime.m: procid (the thread id) and curg. */
	readonly m: { readonly procid: number; readonly curg: number };
}

type Row = readonly [
	m: number,
	sched: number,
	syscallsp: number,
	syscallpc: number,
	atomicstatus: number,
	goid: number,
	waitreason: number,
	lockedm: number,
	gopc: number,
	parentGoid: number | null,
	sp: number,
	pc: number,
	lr: number,
	bp: number,
	procid: number,
	curg: number,
];

// Go 1.23 added g.syscallbp; Go 1.25 dropped gobuf.ret (so everything after g.sched moved).
// Go 1.21 added g.parentGoid.
const rows: ReadonlyMap<number, Row> = new Map([
	[19, [48, 56, 112, 120, 144, 152, 176, 232, 296, null, 0, 8, 40, 48, 72, 192]],
	[21, [48, 56, 112, 120, 144, 152, 176, 208, 280, 272, 0, 8, 40, 48, 72, 192]],
	[22, [48, 56, 112, 120, 144, 152, 176, 208, 280, 272, 0, 8, 40, 48, 72, 192]],
	[23, [48, 56, 112, 120, 152, 160, 184, 216, 288, 280, 0, 8, 40, 48, 72, 192]],
	[24, [48, 56, 112, 120, 152, 160, 184, 216, 288, 280, 0, 8, 40, 48, 72, 192]],
	[25, [48, 56, 104, 112, 144, 152, 176, 208, 280, 272, 0, 8, 32, 40, 64, 184]],
	[26, [48, 56, 104, 112, 144, 152, 176, 208, 288, 280, 0, 8, 32, 40, 64, 184]],
]);

/** The Go minor versions (1.N) whose layout the table holds. */
export const layoutVersions: readonly number[] = [...rows.keys()];

/** Returns the table's runtime layout of Go 1.`minor`, or undefined when it has none. */
export function runtimeLayout(minor: number): RuntimeLayout | undefined {
	const r = rows.get(minor);
	if (r === undefined) return undefined;
	const [
		m,
		sched,
		syscallsp,
		syscallpc,
		atomicstatus,
		goid,
		waitreason,
		lockedm,
		gopc,
		parentGoid,
		sp,
		pc,
		lr,
		bp,
		procid,
		curg,
	] = r;
	return {
		g: {
			stackLo: 0,
			stackHi: 8,
			m,
			sched,
			syscallsp,
			syscallpc,
			atomicstatus,
			goid,
			waitreason,
			lockedm,
			gopc,
			parentGoid,
		},
		gobuf: { sp, pc, lr, bp },
		m: { procid, curg },
	};
}

/** Where a layout came from: the binary's DWARF, or the table for its Go version. */
export type LayoutSource = "dwarf" | "table";

/** The fields read from each struct, as `struct.member` in Go's names. */
const wantedFields = {
	"runtime.g": [
		"stack",
		"m",
		"sched",
		"syscallsp",
		"syscallpc",
		"atomicstatus",
		"goid",
		"waitreason",
		"lockedm",
		"gopc",
	],
	"runtime.stack": ["lo", "hi"],
	"runtime.gobuf": ["sp", "pc", "lr", "bp"],
	"runtime.m": ["procid", "curg"],
} as const;

/**
 * Reads the runtime layout from the binary's DWARF: undefined when it has none, else the layout
 * or the `struct.member` names it lacks (g.parentGoid is optional: Go 1.20 added it).
 */
export function dwarfLayout(image: Image): RuntimeLayout | { missing: string[] } | undefined {
	const structs = readDwarfStructs(image, Object.keys(wantedFields));
	if (structs === undefined) return undefined;
	const missing: string[] = [];
	const field = <S extends keyof typeof wantedFields>(
		struct: S,
		member: (typeof wantedFields)[S][number],
	): number => {
		const at = structs.get(struct)?.members.get(member);
		if (at === undefined) missing.push(`${struct}.${member}`);
		return at ?? -1;
	};
	const stack = field("runtime.g", "stack");
	const layout: RuntimeLayout = {
		g: {
			stackLo: stack + field("runtime.stack", "lo"),
			stackHi: stack + field("runtime.stack", "hi"),
			m: field("runtime.g", "m"),
			sched: field("runtime.g", "sched"),
			syscallsp: field("runtime.g", "syscallsp"),
			syscallpc: field("runtime.g", "syscallpc"),
			atomicstatus: field("runtime.g", "atomicstatus"),
			goid: field("runtime.g", "goid"),
			waitreason: field("runtime.g", "waitreason"),
			lockedm: field("runtime.g", "lockedm"),
			gopc: field("runtime.g", "gopc"),
			parentGoid: structs.get("runtime.g")?.members.get("parentGoid") ?? null,
		},
		gobuf: {
			sp: field("runtime.gobuf", "sp"),
			pc: field("runtime.gobuf", "pc"),
			lr: field("runtime.gobuf", "lr"),
			bp: field("runtime.gobuf", "bp"),
		},
		m: { procid: field("runtime.m", "procid"), curg: field("runtime.m", "curg") },
	};
	return missing.length > 0 ? { missing } : layout;
}

/**
 * The runtime layout of the binary: from its DWARF when that has every field, else the table's
 * for its Go version; when neither, one CoreError saying what is missing and what to do.
 */
export function chooseLayout(bin: GoBinary): { layout: RuntimeLayout; source: LayoutSource } {
	const fromDwarf = dwarfLayout(bin.image);
	if (fromDwarf !== undefined && !("missing" in fromDwarf)) {
		return { layout: fromDwarf, source: "dwarf" };
	}
	const goVersion = bin.buildInfo?.goVersion;
	const release = goVersion === undefined ? undefined : parseGoVersion(goVersion);
	const table = release === undefined ? undefined : runtimeLayout(release.minor);
	if (table !== undefined) return { layout: table, source: "table" };
	const known = layoutVersions.map((v) => `1.${v}`).join(", ");
	const dwarf =
		fromDwarf === undefined
			? "no DWARF (built with -ldflags=-w, or stripped)"
			: `DWARF without ${fromDwarf.missing.join(", ")}`;
	const message =
		release === undefined
			? `The binary has no Go version (${goVersion ?? "no buildinfo"}) and ${dwarf}: gocrash cannot tell where the runtime keeps the goroutines' fields; use a binary built without -ldflags=-w`
			: `The ${goVersion} binary has ${dwarf}, and gocrash's runtime layout table has Go ${known} only: ${fromDwarf === undefined ? "rebuild without -ldflags=-w, or " : ""}use a gocrash that knows Go 1.${release.minor}`;
	throw new CoreError("unsupported", message, 0);
}
