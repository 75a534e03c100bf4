import { type FileSource, type GoBinary, parseGoVersion } from "../binary/index.js";
import { type CoreFile, type FileMapping, parseCoreFile } from "./_core-file.js";
import { CoreError, hex } from "./_error.js";
import { type CoreGoroutine, scanGoroutines } from "./_goroutines.js";
import { layoutVersions, runtimeLayout } from "./_layout.js";
import { Memory } from "./_memory.js";
import { type AsyncPreemption, checkPreempted } from "./_preempted.js";
import { hasFaultAddr, signalName } from "./_signals.js";

/** One thread of the core: its id, pc and sp, and the signal it was taking. */
export interface CoreThreadReport {
	readonly tid: number;
	readonly pc: bigint;
	readonly sp: bigint;
	/** The signal the kernel was delivering to it (`pr_cursig`), if any. */
	readonly signal: string | undefined;
	readonly registers: readonly (readonly [string, bigint])[];
}

/** The signal that made the core, from the dumping thread's NT_SIGINFO. */
export interface CoreSignal {
	readonly name: string;
	readonly signo: number;
	readonly code: number;
	/** The fault address, for the signals that have one. */
	readonly addr: bigint | undefined;
	readonly thread: number;
}

/** What a core file says about a Go process: threads, the fatal signal and every goroutine. */
export interface CoreReport {
	readonly goVersion: string;
	readonly goarch: string;
	/** The command name the kernel recorded (NT_PRPSINFO). */
	readonly command: string | undefined;
	/** How far the executable was loaded from its link addresses (PIE). */
	readonly bias: number;
	readonly threads: readonly CoreThreadReport[];
	readonly signal: CoreSignal | undefined;
	readonly goroutines: readonly CoreGoroutine[];
	/** The goroutines stopped in runtime.asyncPreempt, checked against the split-SP windows (arm64). */
	readonly preempted: readonly AsyncPreemption[];
}

/** A core file opened for reading its goroutines one at a time; the rest is read already. */
export interface CoreScan extends Omit<CoreReport, "goroutines" | "preempted"> {
	/**
	 * Reads the goroutines in runtime.allgs order, each with its asynchronous preemption (arm64),
	 * so that a core of a million goroutines is never held whole.
	 */
	scanGoroutines(): Generator<{
		readonly goroutine: CoreGoroutine;
		readonly preempted: AsyncPreemption | undefined;
	}>;
}

const atEntry = 9;

/** Reads a core file of the Go executable `bin`: threads, signal and every goroutine's stack. */
export function readCore(bin: GoBinary, source: FileSource): CoreReport {
	const { scanGoroutines: scan, ...head } = scanCore(bin, source);
	const goroutines: CoreGoroutine[] = [];
	const preempted: AsyncPreemption[] = [];
	for (const g of scan()) {
		goroutines.push(g.goroutine);
		if (g.preempted !== undefined) preempted.push(g.preempted);
	}
	return { ...head, goroutines, preempted };
}

/** Opens a core file of `bin` as {@link readCore} reads it, its goroutines left to scan. */
export function scanCore(bin: GoBinary, source: FileSource): CoreScan {
	const core = parseCoreFile(source);
	if (bin.arch !== core.arch) {
		throw new CoreError(
			"mismatch",
			`The core is of linux/${core.arch} but the binary is ${bin.arch}`,
			0,
		);
	}
	if (bin.format !== "elf")
		throw new CoreError("mismatch", `The binary is ${bin.format}, not ELF`, 0);
	const goVersion = bin.buildInfo?.goVersion;
	const release = goVersion === undefined ? undefined : parseGoVersion(goVersion);
	const layout = release === undefined ? undefined : runtimeLayout(release.minor);
	if (goVersion === undefined || layout === undefined) {
		const known = layoutVersions.map((v) => `1.${v}`).join(", ");
		throw new CoreError(
			"unsupported",
			`${goVersion ?? "A binary without buildinfo"}: gocrash knows the runtime layout of Go ${known} only`,
			0,
		);
	}
	const { bias, mappings } = placeExecutable(bin, core);
	const mem = new Memory(core, bin.image, bias, mappings);
	checkSameExecutable(bin, core, mappings, bias);
	const context = { bin, arch: core.arch, mem, bias, layout, threads: core.threads };
	return {
		goVersion,
		goarch: core.arch,
		command: core.command,
		bias,
		threads: core.threads.map((t) => ({
			tid: t.tid,
			pc: t.pc,
			sp: t.sp,
			signal: t.signal === 0 ? undefined : signalName(t.signal),
			registers: t.registers,
		})),
		signal: fatalSignal(core),
		*scanGoroutines() {
			for (const goroutine of scanGoroutines(context)) {
				const preempted = checkPreempted(bin, core.arch, mem, bias, [goroutine])[0];
				yield { goroutine, preempted };
			}
		},
	};
}

// The kernel lists the thread that took the signal first, with the process's NT_SIGINFO after it.
function fatalSignal(core: CoreFile): CoreSignal | undefined {
	const t = core.threads[0];
	if (t === undefined) return undefined;
	const info = t.siginfo;
	const signo = info?.signo ?? t.signal;
	if (signo <= 0) return undefined;
	return {
		name: signalName(signo),
		signo,
		code: info?.code ?? 0,
		addr: info !== undefined && hasFaultAddr(signo) ? info.addr : undefined,
		thread: t.tid,
	};
}

// The load bias (AT_ENTRY minus the ELF entry point) and the NT_FILE mappings of the executable:
// those of the file mapped where the entry point is.
function placeExecutable(bin: GoBinary, core: CoreFile): { bias: number; mappings: FileMapping[] } {
	const r = bin.image.reader;
	const entry =
		bin.image.ptrSize === 8 ? r.u64(24, "ELF entry point") : r.u32(24, "ELF entry point");
	const runtimeEntry = core.auxv.get(atEntry);
	if (runtimeEntry === undefined) {
		if (bin.image.pie) {
			throw new CoreError(
				"malformed",
				"The core has no AT_ENTRY (NT_AUXV): cannot place the PIE executable",
				0,
			);
		}
		return { bias: 0, mappings: [] };
	}
	const bias = runtimeEntry - entry;
	if (bias !== 0 && !bin.image.pie) {
		throw new CoreError(
			"mismatch",
			`The core's entry point (AT_ENTRY) ${hex(runtimeEntry)} is not the binary's, ${hex(entry)}: not the binary that made this core`,
			0,
		);
	}
	const at = core.files.find((m) => runtimeEntry >= m.start && runtimeEntry < m.end);
	return { bias, mappings: at === undefined ? [] : core.files.filter((m) => m.path === at.path) };
}

// The kernel keeps the first page of each mapped ELF file (its headers) in the core: when it is
// there, it must be the binary's own first bytes. A core without NT_FILE (QEMU's) says nothing of
// the files, but keeps the read-only data it could read: it must be the binary's, where the bias
// puts it (its first page is not enough: two builds of one toolchain often share it).
function checkSameExecutable(
	bin: GoBinary,
	core: CoreFile,
	mappings: readonly FileMapping[],
	bias: number,
): void {
	const first = mappings.find((m) => m.offset === 0);
	if (first !== undefined) {
		compareWithCore(bin, core, first.start, 0, 4096, first.path);
		return;
	}
	if (mappings.length > 0) return;
	for (const s of bin.image.segments) {
		if (!s.write && s.fileSize > 0)
			compareWithCore(
				bin,
				core,
				s.addr + bias,
				s.offset,
				s.fileSize,
				`the segment at ${hex(s.addr)}`,
			);
	}
}

const compareChunk = 1 << 16;
const maxCompared = 16 << 20;

// Compares up to `length` bytes of the core at `addr`, as far as the core holds them, with the
// binary's at file offset `offset`.
function compareWithCore(
	bin: GoBinary,
	core: CoreFile,
	addr: number,
	offset: number,
	length: number,
	what: string,
): void {
	const load = core.loads.find(
		(l) => addr >= l.vaddr && addr < l.vaddr + l.fileSize && l.fileSize > 0,
	);
	if (load === undefined) return;
	const at = load.offset + (addr - load.vaddr);
	const n = Math.min(
		load.vaddr + load.fileSize - addr,
		length,
		maxCompared,
		bin.image.reader.size - offset,
		core.source.size - at,
	);
	for (let done = 0; done < n; done += compareChunk) {
		const size = Math.min(compareChunk, n - done);
		const theirs = new Uint8Array(size);
		core.source.read(theirs, at + done);
		const ours = bin.image.reader.slice(offset + done, size, "the binary's bytes");
		const i = theirs.findIndex((b, j) => b !== ours[j]);
		if (i >= 0) {
			throw new CoreError(
				"mismatch",
				`The core's copy of ${what} differs from the binary at byte ${hex(offset + done + i)}: not the binary that made this core`,
				at + done + i,
			);
		}
	}
}
