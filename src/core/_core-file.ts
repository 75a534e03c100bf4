import type { FileSource } from "../binary/index.js";
import { CoreError, hex } from "./_error.js";

/** The architectures whose core files gocrash reads, in Go's names. */
export type CoreArch = "amd64" | "arm64";

/** One PT_LOAD segment: memory at `vaddr`, the first `fileSize` bytes of it in the core file. */
export interface CoreLoad {
	readonly vaddr: number;
	readonly memSize: number;
	readonly offset: number;
	readonly fileSize: number;
	readonly read: boolean;
	readonly write: boolean;
	readonly exec: boolean;
}

/** The signal information of NT_SIGINFO (the kernel's siginfo_t). */
export interface SignalInfo {
	readonly signo: number;
	readonly code: number;
	/** `si_addr`, meaningful for the fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP). */
	readonly addr: bigint;
}

/** One thread of the process, from its NT_PRSTATUS note. */
export interface CoreThread {
	readonly tid: number;
	/** `pr_cursig`: the signal the kernel was delivering when it wrote the core, 0 for none. */
	readonly signal: number;
	/** Every general register in the kernel's order (user_regs_struct). */
	readonly registers: readonly (readonly [string, bigint])[];
	readonly pc: bigint;
	readonly sp: bigint;
	/** The link register (arm64 x30), undefined on amd64. */
	readonly lr: bigint | undefined;
	/** The thread pointer (amd64 fs_base), undefined when the core does not record it. */
	readonly tls: bigint | undefined;
	/** The NT_SIGINFO note that followed this thread's NT_PRSTATUS, if any. */
	readonly siginfo: SignalInfo | undefined;
}

/** One file mapping of NT_FILE: `[start, end)` maps the file `path` from byte `offset`. */
export interface FileMapping {
	readonly start: number;
	readonly end: number;
	readonly offset: number;
	readonly path: string;
}

/** The headers and notes of an ELF core file; memory is read on demand through `source`. */
export interface CoreFile {
	readonly arch: CoreArch;
	readonly source: FileSource;
	readonly loads: readonly CoreLoad[];
	/** Threads in the order the core lists them: the kernel puts the one that dumped first. */
	readonly threads: readonly CoreThread[];
	readonly files: readonly FileMapping[];
	/** NT_AUXV: AT_* type to value (values past 2^53 left out). */
	readonly auxv: ReadonlyMap<number, number>;
	/** `pr_fname` of NT_PRPSINFO: the command name, up to 15 bytes. */
	readonly command: string | undefined;
}

/** The auxiliary vector's AT_ENTRY: the executable's entry point in the process. */
export const atEntry = 9;
const ptLoad = 1;
const ptNote = 4;
const ntPrstatus = 1;
const ntPrpsinfo = 3;
const ntAuxv = 6;
const ntFile = 0x46494c45;
const ntSiginfo = 0x53494749;
// Go runs at most 10000 threads (debug.SetMaxThreads), each with a few KiB of notes.
const maxNotes = 64 << 20;
// Linux maps 65530 areas at most by default (vm.max_map_count); 2^20 headers are 56 MiB.
const maxSegments = 1 << 20;

const amd64Registers = [
	"r15",
	"r14",
	"r13",
	"r12",
	"rbp",
	"rbx",
	"r11",
	"r10",
	"r9",
	"r8",
	"rax",
	"rcx",
	"rdx",
	"rsi",
	"rdi",
	"orig_rax",
	"rip",
	"cs",
	"eflags",
	"rsp",
	"ss",
	"fs_base",
	"gs_base",
	"ds",
	"es",
	"fs",
	"gs",
] as const;
const arm64Registers = [
	...Array.from({ length: 31 }, (_, i) => `x${i}`),
	"sp",
	"pc",
	"pstate",
] as const;
const machines: ReadonlyMap<number, CoreArch> = new Map([
	[62, "amd64"],
	[183, "arm64"],
]);

/** Bounds-checked positioned reads from a core file. */
class CoreReader {
	readonly #source: FileSource;
	constructor(source: FileSource) {
		this.#source = source;
	}

	get size(): number {
		return this.#source.size;
	}

	/** Reads `length` bytes at `offset`, or fails naming `what`. */
	bytes(offset: number, length: number, what: string): DataView {
		if (
			!Number.isSafeInteger(offset) ||
			!Number.isSafeInteger(length) ||
			offset < 0 ||
			length < 0
		) {
			throw new CoreError("malformed", `Cannot read ${what}: bad offset ${offset}`, 0);
		}
		if (offset + length > this.size) {
			throw new CoreError(
				"truncated",
				`Cannot read ${what}: offset ${hex(offset + length)} exceeds file size ${hex(this.size)}`,
				offset,
			);
		}
		const into = new Uint8Array(length);
		this.#source.read(into, offset);
		return new DataView(into.buffer);
	}
}

/** Reads a 64-bit little-endian value as a number; undefined when it exceeds 2^53. */
function safe64(v: DataView, at: number): number | undefined {
	const n = v.getBigUint64(at, true);
	return n > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(n);
}

function need64(v: DataView, at: number, what: string, base: number): number {
	const n = safe64(v, at);
	if (n === undefined) {
		throw new CoreError("malformed", `Cannot read ${what}: value exceeds 2^53`, base + at);
	}
	return n;
}

/** Parses an ELF core file's headers and notes (64-bit little-endian amd64 and arm64). */
export function parseCoreFile(source: FileSource): CoreFile {
	const r = new CoreReader(source);
	if (r.size < 64) {
		throw new CoreError(
			"truncated",
			`Not a core file: ${r.size} bytes is shorter than an ELF header`,
			0,
		);
	}
	const eh = r.bytes(0, 64, "ELF header");
	if (eh.getUint32(0, false) !== 0x7f454c46) {
		throw new CoreError("bad-magic", "Not an ELF file (unknown magic at offset 0x0)", 0);
	}
	if (eh.getUint8(4) !== 2 || eh.getUint8(5) !== 1) {
		throw new CoreError("unsupported", "Only 64-bit little-endian core files are read", 4);
	}
	const type = eh.getUint16(16, true);
	if (type !== 4) {
		throw new CoreError("bad-magic", `Not a core file: ELF type ${type} is not ET_CORE (4)`, 16);
	}
	const machine = eh.getUint16(18, true);
	const arch = machines.get(machine);
	if (arch === undefined) {
		throw new CoreError(
			"unsupported",
			`Core files of ELF machine ${machine} are not read (amd64 and arm64 are)`,
			18,
		);
	}
	const phoff = need64(eh, 32, "program header offset", 0);
	const phentsize = eh.getUint16(54, true);
	let phnum = eh.getUint16(56, true);
	if (phnum === 0xffff) {
		// PN_XNUM: more than 65534 segments, the count is in section header 0's sh_info.
		const shoff = need64(eh, 40, "section header offset", 0);
		phnum = r.bytes(shoff, 64, "section header 0").getUint32(44, true);
	}
	// As Go's debug/elf: a larger entry size would make the headers' bytes up to 4 GiB.
	if (phentsize !== 56) {
		throw new CoreError(
			"malformed",
			`Cannot read program headers: entry size ${phentsize} is not ELF64's 56`,
			54,
		);
	}
	if (phnum > maxSegments || phoff + phnum * phentsize > r.size) {
		throw new CoreError(
			"truncated",
			`Cannot read ${phnum} program headers at ${hex(phoff)}: they end past the file size ${hex(r.size)}`,
			phoff,
		);
	}
	const ph = r.bytes(phoff, phnum * phentsize, "program headers");
	const loads: CoreLoad[] = [];
	const notes: { offset: number; size: number }[] = [];
	for (let i = 0; i < phnum; i++) {
		const at = i * phentsize;
		const ptype = ph.getUint32(at, true);
		const flags = ph.getUint32(at + 4, true);
		const offset = need64(ph, at + 8, `program header ${i}`, phoff);
		const vaddr = safe64(ph, at + 16);
		const fileSize = need64(ph, at + 32, `program header ${i}`, phoff);
		const memSize = safe64(ph, at + 40);
		if (ptype === ptNote) notes.push({ offset, size: fileSize });
		// Mappings past 2^53 (the amd64 vsyscall page) never hold Go memory.
		if (ptype !== ptLoad || vaddr === undefined || memSize === undefined) continue;
		if (fileSize > memSize) {
			throw new CoreError(
				"malformed",
				`Program header ${i}: file size ${hex(fileSize)} exceeds memory size ${hex(memSize)}`,
				phoff + at,
			);
		}
		loads.push({
			vaddr,
			memSize,
			offset,
			fileSize,
			read: (flags & 4) !== 0,
			write: (flags & 2) !== 0,
			exec: (flags & 1) !== 0,
		});
	}
	loads.sort((a, b) => a.vaddr - b.vaddr);
	const out: NoteContents = { threads: [], files: [], auxv: new Map(), command: undefined };
	for (const n of notes) {
		if (n.size > maxNotes)
			throw new CoreError(
				"unsupported",
				`Note segment of ${hex(n.size)} bytes is too large`,
				n.offset,
			);
		readNotes(r.bytes(n.offset, n.size, "note segment"), n.offset, arch, out);
	}
	if (out.threads.length === 0)
		throw new CoreError("malformed", "The core file has no NT_PRSTATUS note: no threads", 0);
	return { arch, source, loads, ...out };
}

/** What the notes of a core tell, filled in note by note. */
interface NoteContents {
	threads: CoreThread[];
	files: FileMapping[];
	auxv: Map<number, number>;
	command: string | undefined;
}

/** One ELF note: its name (up to 8 bytes), type, and description, `at` its offset in the file. */
export interface ElfNote {
	readonly name: string;
	readonly type: number;
	readonly desc: DataView;
	readonly at: number;
}

/** The notes of a note segment `v` read at file offset `base`; a note that overruns it fails. */
export function* elfNotes(v: DataView, base: number): Generator<ElfNote> {
	const align = (n: number): number => Math.ceil(n / 4) * 4;
	let at = 0;
	while (at + 12 <= v.byteLength) {
		const namesz = v.getUint32(at, true);
		const descsz = v.getUint32(at + 4, true);
		const type = v.getUint32(at + 8, true);
		const descAt = at + 12 + align(namesz);
		if (descAt + descsz > v.byteLength) {
			throw new CoreError(
				"malformed",
				`Note at ${hex(base + at)}: its ${descsz} bytes end past the note segment`,
				base + at,
			);
		}
		const nameBytes = new Uint8Array(v.buffer, v.byteOffset + at + 12, Math.min(namesz, 8));
		const nul = nameBytes.indexOf(0);
		// The name is NUL-terminated and padded; Go's linker writes "Go\0\0" with namesz 4.
		const name = String.fromCharCode(...(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)));
		yield {
			name,
			type,
			desc: new DataView(v.buffer, v.byteOffset + descAt, descsz),
			at: base + descAt,
		};
		at = descAt + align(descsz);
	}
}

function readNotes(v: DataView, base: number, arch: CoreArch, out: NoteContents): void {
	for (const n of elfNotes(v, base)) {
		if (n.name === "CORE") readNote(n.type, n.desc, n.at, arch, out);
	}
}

/** Where the core file holds the memory at `addr`: its offset in the file and how many bytes from there. */
export function heldBytes(
	core: CoreFile,
	addr: number,
): { offset: number; length: number } | undefined {
	const load = core.loads.find(
		(l) => addr >= l.vaddr && addr < l.vaddr + l.fileSize && l.fileSize > 0,
	);
	if (load === undefined) return undefined;
	const offset = load.offset + (addr - load.vaddr);
	const length = Math.min(load.vaddr + load.fileSize - addr, core.source.size - offset);
	return length > 0 ? { offset, length } : undefined;
}

function readNote(type: number, d: DataView, at: number, arch: CoreArch, out: NoteContents): void {
	const short = (want: number, what: string): void => {
		if (d.byteLength < want)
			throw new CoreError(
				"malformed",
				`${what} note at ${hex(at)} has ${d.byteLength} bytes, fewer than ${want}`,
				at,
			);
	};
	if (type === ntPrstatus) {
		// struct elf_prstatus: siginfo header (12), pr_cursig (2) + pad, sigpend, sighold, pids,
		// four timevals, then pr_reg at 112 (include/uapi/linux/elfcore.h).
		const names = arch === "amd64" ? amd64Registers : arm64Registers;
		short(112 + names.length * 8, "NT_PRSTATUS");
		const registers = names.map((n, i) => [n, d.getBigUint64(112 + i * 8, true)] as const);
		const reg = (n: string): bigint => registers.find((x) => x[0] === n)?.[1] ?? 0n;
		out.threads.push({
			tid: d.getUint32(32, true),
			signal: d.getUint16(12, true),
			registers,
			pc: reg(arch === "amd64" ? "rip" : "pc"),
			sp: reg(arch === "amd64" ? "rsp" : "sp"),
			lr: arch === "arm64" ? reg("x30") : undefined,
			tls: arch === "amd64" ? reg("fs_base") : undefined,
			siginfo: undefined,
		});
	} else if (type === ntSiginfo) {
		short(24, "NT_SIGINFO");
		const last = out.threads.pop();
		const siginfo = {
			signo: d.getInt32(0, true),
			code: d.getInt32(8, true),
			addr: d.getBigUint64(16, true),
		};
		if (last !== undefined) out.threads.push({ ...last, siginfo });
	} else if (type === ntFile) {
		short(16, "NT_FILE");
		const count = need64(d, 0, "NT_FILE count", at);
		const page = need64(d, 8, "NT_FILE page size", at);
		if (count > (d.byteLength - 16) / 24) {
			throw new CoreError(
				"malformed",
				`NT_FILE note at ${hex(at)}: ${count} mappings do not fit in ${d.byteLength} bytes`,
				at,
			);
		}
		const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
		let name = 16 + count * 24;
		for (let i = 0; i < count; i++) {
			const end = bytes.indexOf(0, name);
			if (end < 0)
				throw new CoreError(
					"malformed",
					`NT_FILE note at ${hex(at)}: name ${i} has no NUL terminator`,
					at + name,
				);
			const path = new TextDecoder().decode(bytes.subarray(name, end));
			name = end + 1;
			const start = safe64(d, 16 + i * 24);
			const stop = safe64(d, 24 + i * 24);
			const pages = safe64(d, 32 + i * 24);
			if (start === undefined || stop === undefined || pages === undefined) continue;
			if (!Number.isSafeInteger(pages * page)) continue;
			out.files.push({ start, end: stop, offset: pages * page, path });
		}
	} else if (type === ntAuxv) {
		for (let i = 0; i + 16 <= d.byteLength; i += 16) {
			const key = safe64(d, i);
			const value = safe64(d, i + 8);
			if (key === 0) break;
			if (key !== undefined && value !== undefined) out.auxv.set(key, value);
		}
	} else if (type === ntPrpsinfo && d.byteLength >= 56) {
		const fname = new Uint8Array(d.buffer, d.byteOffset + 40, 16);
		const nul = fname.indexOf(0);
		out.command = new TextDecoder().decode(nul < 0 ? fname : fname.subarray(0, nul));
	}
}
