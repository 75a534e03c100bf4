/**
 * Byte offsets of the runtime's fields that gocrash reads from a core (64-bit targets; the
 * structs hold only words and smaller fields, so amd64 and arm64 agree). Taken from the DWARF of
 * binaries built by Debian's toolchains and checked against it by test/binaries/core.test.ts
 * (gdb `print &((runtime.g *)0)->goid` and so on), so no DWARF is needed at run time.
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

/** The Go minor versions (1.N) whose layout gocrash knows. */
export const layoutVersions: readonly number[] = [...rows.keys()];

/** Returns the runtime layout of Go 1.`minor`, or undefined when gocrash does not know it. */
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
