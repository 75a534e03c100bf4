import type { FileSource, GoBinary } from "../binary/index.js";
import { checkBuildId } from "./_build-id.js";
import {
	atEntry,
	type CoreFile,
	type FileMapping,
	heldBytes,
	parseCoreFile,
} from "./_core-file.js";
import { CoreError, hex } from "./_error.js";
import { type CoreGoroutine, requireSymbolTable, scanGoroutines } from "./_goroutines.js";
import { chooseLayout, type LayoutSource } from "./_layout.js";
import { Memory } from "./_memory.js";
import { type AsyncPreemption, checkPreempted } from "./_preempted.js";
import { hasFaultAddr, signalName } from "./_signals.js";
import { type RegisterValue, type StackWords, ValueNamer } from "./_values.js";

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
	/** Where the offsets of runtime.g, m and gobuf came from: the binary's DWARF or the table. */
	readonly layout: LayoutSource;
	/** The registers of the thread that took the signal whose values point at code, a stack or a g. */
	readonly registerValues: readonly RegisterValue[];
	/** The stack words asked for with {@link CoreOptions.stackWords}. */
	readonly stackWords: StackWords | undefined;
	/**
	 * Set when the core file is shorter than its segments say (a core size limit cut it): what it
	 * read was in the part kept, but the memory past `size` is missing.
	 */
	readonly truncated: { readonly size: number; readonly expected: number } | undefined;
}

/** What else to read from a core. */
export interface CoreOptions {
	/** Read `count` words of goroutine `goroutine`'s stack around its SP. */
	readonly stackWords?: { readonly goroutine: number; readonly count: number };
}

/** A core file opened for reading its goroutines one at a time; the rest is read already. */
export interface CoreScan
	extends Omit<CoreReport, "goroutines" | "preempted" | "registerValues" | "stackWords"> {
	/**
	 * Reads the goroutines in runtime.allgs order, each with its asynchronous preemption (arm64),
	 * so that a core of a million goroutines is never held whole.
	 */
	scanGoroutines(): Generator<{
		readonly goroutine: CoreGoroutine;
		readonly preempted: AsyncPreemption | undefined;
	}>;
	/** Once the goroutines are scanned: what the registers and the stack words asked for point at. */
	named(): Pick<CoreReport, "registerValues" | "stackWords">;
}

/** Reads a core file of the Go executable `bin`: threads, signal and every goroutine's stack. */
export function readCore(bin: GoBinary, source: FileSource, options: CoreOptions = {}): CoreReport {
	const { scanGoroutines: scan, named, ...head } = scanCore(bin, source, options);
	const goroutines: CoreGoroutine[] = [];
	const preempted: AsyncPreemption[] = [];
	for (const g of scan()) {
		goroutines.push(g.goroutine);
		if (g.preempted !== undefined) preempted.push(g.preempted);
	}
	return { ...head, goroutines, preempted, ...named() };
}

/** Opens a core file of `bin` as {@link readCore} reads it, its goroutines left to scan. */
export function scanCore(bin: GoBinary, source: FileSource, options: CoreOptions = {}): CoreScan {
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
	checkBuildId(bin, core);
	requireSymbolTable(bin);
	const { layout, source: layoutSource } = chooseLayout(bin);
	const { bias, mappings } = placeExecutable(bin, core);
	const mem = new Memory(core, bin.image, bias, mappings);
	checkSameExecutable(bin, core, mappings, bias);
	const context = { bin, arch: core.arch, mem, bias, layout, threads: core.threads };
	const signal = fatalSignal(core);
	const signalled = core.threads.find((t) => t.tid === signal?.thread);
	const namer = new ValueNamer(bin, bias, mem, signalled?.registers ?? [], options.stackWords);
	// A loop, not Math.max(...): a core may have 2^20 segments, too many arguments for a call.
	let expected = 0;
	for (const l of core.loads) expected = Math.max(expected, l.offset + l.fileSize);
	return {
		goVersion: bin.buildInfo?.goVersion ?? "unknown",
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
		signal,
		layout: layoutSource,
		truncated: expected > source.size ? { size: source.size, expected } : undefined,
		*scanGoroutines() {
			for (const goroutine of scanGoroutines(context)) {
				namer.see(goroutine);
				const preempted = checkPreempted(bin, core.arch, mem, bias, [goroutine])[0];
				yield { goroutine, preempted };
			}
		},
		named: () => namer.result(),
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
			`The core's entry point (AT_ENTRY) ${hex(runtimeEntry)} is not the binary's, ${hex(entry)}: not the binary that made this core; pass the executable that wrote this core`,
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
	const held = heldBytes(core, addr);
	if (held === undefined) return;
	const at = held.offset;
	const n = Math.min(held.length, length, maxCompared, bin.image.reader.size - offset);
	for (let done = 0; done < n; done += compareChunk) {
		const size = Math.min(compareChunk, n - done);
		const theirs = new Uint8Array(size);
		core.source.read(theirs, at + done);
		const ours = bin.image.reader.slice(offset + done, size, "the binary's bytes");
		const i = theirs.findIndex((b, j) => b !== ours[j]);
		if (i >= 0) {
			throw new CoreError(
				"mismatch",
				`The core's copy of ${what} differs from the binary at byte ${hex(offset + done + i)}: not the binary that made this core; pass the executable that wrote this core`,
				at + done + i,
			);
		}
	}
}
