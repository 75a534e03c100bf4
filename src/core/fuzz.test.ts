// readCore on hostile cores: real cores of test/binaries/corecrash (Go 1.26; the kernel's and gdb's
// gcore on linux/amd64, QEMU's on linux/arm64, made by scripts/run-corecrash.sh in a directory of
// their own) truncated at every structurally interesting offset and with bytes flipped in the ELF
// and program headers, each note, and the runtime's memory (allgs, the g structs, the stacks),
// read with their own binary and with another build's (and goroutine 1's stack words named). The outcome is a report or a CoreError or
// BinaryError of one line, never anything else, and no read is huge. Where the answer is decidable
// it must be right: flips in bytes the reader ignores give the original report, and the binary of
// another build never gives one.
import { execFile } from "node:child_process";
import {
	closeSync,
	fstatSync,
	mkdtempSync,
	openSync,
	readFileSync,
	readSync,
	rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
	BinaryError,
	type FileSource,
	findFunctionByName,
	type GoBinary,
	parseGoBinary,
} from "../binary/index.js";
import { type CoreFile, elfNotes, heldBytes, parseCoreFile } from "./_core-file.js";
import { CoreError, type CoreReport, readCore, runtimeLayout } from "./index.js";

const root = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "gocrash-core-fuzz-"));
const fds: number[] = [];

beforeAll(async () => {
	const env = { ...process.env, CORECRASH_OUT: dir };
	for (const args of [["1.26"], ["1.26", "arm64"], ["1.25"], ["1.25", "arm64"]]) {
		await promisify(execFile)(`${root}scripts/run-corecrash.sh`, args, { env });
	}
}, 600_000);
afterAll(() => {
	for (const fd of fds) closeSync(fd);
	rmSync(dir, { recursive: true, force: true });
});

// The largest read a core may cause: pages, program headers and the byte comparisons' chunks are
// smaller, a note segment (every thread's registers) is read whole, up to 64 MiB.
const maxRead = 64 << 20;

/** A real core read through a FileSource: `size` bytes of it, with `edits` applied to what is read. */
interface Subject {
	readonly bin: GoBinary;
	readonly other: GoBinary;
	readonly fd: number;
	readonly size: number;
	readonly core: CoreFile;
	readonly report: CoreReport;
	/** Offsets worth flipping: headers, notes, and the runtime's structures. */
	readonly points: readonly number[];
	/** Offsets worth cutting at: the same, but one per page of memory. */
	readonly cuts: readonly number[];
	/** File offsets of the words of allgs, the g structs and the stacks. */
	readonly words: readonly number[];
	/** Values to write over them. */
	readonly values: readonly bigint[];
	/** Byte ranges of notes the reader ignores ([start, end) in the file). */
	readonly ignored: readonly (readonly [number, number])[];
}

function source(fd: number, size: number, edits: ReadonlyMap<number, number>): FileSource {
	return {
		size,
		read(into, offset) {
			expect(into.length).toBeLessThanOrEqual(maxRead);
			expect(offset + into.length).toBeLessThanOrEqual(size);
			readSync(fd, into, 0, into.length, offset);
			for (const [at, value] of edits) {
				if (at >= offset && at < offset + into.length) into[at - offset] = value;
			}
		},
	};
}

function outcome(
	bin: GoBinary,
	fd: number,
	size: number,
	edits: ReadonlyMap<number, number> = new Map(),
): CoreReport | { error: string } {
	try {
		return readCore(bin, source(fd, size, edits), { stackWords: { goroutine: 1, count: 64 } });
	} catch (error) {
		if (!(error instanceof CoreError || error instanceof BinaryError)) throw error;
		expect(error.message).toMatch(/^\S[^\n]*$/);
		return { error: `${error.name}: ${error.message}` };
	}
}

// A report of the core cut at `length` bytes is the whole core's, but for saying it is cut.
function expectWholeButCut(r: CoreReport, s: Subject, length: number): void {
	expect({ ...r, truncated: undefined }).toEqual(s.report);
	const expected = Math.max(...s.core.loads.map((l) => l.offset + l.fileSize));
	if (length < expected) expect(r.truncated).toEqual({ size: length, expected });
	else expect(r.truncated).toBeUndefined();
}

function subject(name: string, kind: "crash" | "gcore", otherName: string): () => Subject {
	let s: Subject | undefined;
	return () => {
		if (s !== undefined) return s;
		const bin = parseGoBinary(new Uint8Array(readFileSync(join(dir, name))));
		const other = parseGoBinary(new Uint8Array(readFileSync(join(dir, otherName))));
		const fd = openSync(join(dir, `${name}.${kind}.core`), "r");
		fds.push(fd);
		const size = fstatSync(fd).size;
		const core = parseCoreFile(source(fd, size, new Map()));
		const report = readCore(bin, source(fd, size, new Map()), {
			stackWords: { goroutine: 1, count: 64 },
		});
		expect(report.goroutines.length).toBeGreaterThan(10);
		expect(report.stackWords?.words.length).toBeGreaterThan(32);
		s = { bin, other, fd, size, core, report, ...interesting(bin, core, report) };
		return s;
	};
}

// Where the structures are in the core file: the ELF header, each program header, each note's
// header and description, the start, middle and end of each segment's bytes, and in memory
// runtime.allgs, its array, every g and the words at each frame's sp.
function interesting(bin: GoBinary, core: CoreFile, report: CoreReport) {
	const points = new Set<number>([0, 4, 16, 18, 24, 32, 40, 54, 56, 63]);
	const head = new Uint8Array(64);
	core.source.read(head, 0);
	const eh = new DataView(head.buffer);
	const phoff = Number(eh.getBigUint64(32, true));
	const phnum = eh.getUint16(56, true);
	const ignored: [number, number][] = [];
	for (let i = 0; i < phnum; i++) {
		const at = phoff + i * 56;
		for (const d of [0, 4, 8, 16, 32, 40]) points.add(at + d);
		const ph = new Uint8Array(56);
		core.source.read(ph, at);
		const v = new DataView(ph.buffer);
		const offset = Number(v.getBigUint64(8, true));
		const size = Number(v.getBigUint64(32, true));
		for (const p of [offset, offset + (size >> 1), offset + size - 1]) {
			if (size > 0 && p < core.source.size) points.add(p);
		}
		if (v.getUint32(0, true) !== 4) continue;
		const notes = new Uint8Array(size);
		core.source.read(notes, offset);
		for (const n of elfNotes(new DataView(notes.buffer), offset)) {
			const header = n.at - 12 - Math.ceil((n.name.length + 1) / 4) * 4;
			for (const p of [header, header + 4, header + 8, n.at, n.at + (n.desc.byteLength >> 1)]) {
				points.add(p);
			}
			// Every word of NT_AUXV and NT_FILE: the entry point, and where the executable is.
			if (n.name === "CORE" && (n.type === 6 || n.type === 0x46494c45)) {
				for (let d = 0; d < n.desc.byteLength; d += 8) points.add(n.at + d);
			}
			// Read: NT_PRSTATUS (1), NT_PRPSINFO (3), NT_AUXV (6), NT_FILE, NT_SIGINFO.
			const used = [1, 3, 6, 0x46494c45, 0x53494749];
			if (n.name !== "CORE" || !used.includes(n.type)) {
				ignored.push([n.at, n.at + n.desc.byteLength]);
			}
		}
	}
	// Cutting the memory anywhere in a page has one effect: the page's first byte is enough.
	const cuts = new Set(points);
	const words = new Set<number>();
	const inMemory = (addr: number, length: number) => {
		for (let d = 0; d < length; d += 8) {
			const held = heldBytes(core, addr + d);
			if (held === undefined) continue;
			points.add(held.offset);
			words.add(held.offset);
			cuts.add(held.offset - (held.offset % 4096));
		}
	};
	const allgs = (bin.image.symbols.get("runtime.allgs") ?? 0) + report.bias;
	inMemory(allgs, 24);
	const array = heldBytes(core, allgs);
	if (array !== undefined) {
		const word = new Uint8Array(8);
		core.source.read(word, array.offset);
		inMemory(Number(new DataView(word.buffer).getBigUint64(0, true)), report.goroutines.length * 8);
	}
	for (const g of report.goroutines) {
		inMemory(g.gp, 0x1a0);
		for (const f of g.frames) inMemory(f.sp, 16);
	}
	const inFile = (set: Set<number>) =>
		[...set].filter((p) => p < core.source.size).sort((a, b) => a - b);
	// Values that mean something somewhere: other goroutines' pcs, sps and gs, and the extremes.
	const values = new Set<bigint>([0n, 1n, 2n ** 53n, 2n ** 64n - 1n, BigInt(core.source.size)]);
	for (const g of report.goroutines) {
		values.add(BigInt(g.gp));
		for (const f of g.frames) {
			values.add(BigInt(f.pc));
			values.add(BigInt(f.sp));
		}
	}
	return {
		points: inFile(points),
		cuts: inFile(cuts),
		words: inFile(words),
		values: [...values],
		ignored,
	};
}

const cores = [
	[
		"kernel core, linux/amd64",
		subject("corecrash-go1.26-linux-amd64", "crash", "corecrash-go1.25-linux-amd64"),
	],
	[
		"gdb's gcore, linux/amd64",
		subject("corecrash-go1.26-linux-amd64", "gcore", "corecrash-go1.25-linux-amd64"),
	],
	[
		"QEMU's core, linux/arm64",
		subject("corecrash-go1.26-linux-arm64", "crash", "corecrash-go1.25-linux-arm64"),
	],
] as const;

describe.each(cores)("%s", (_, get) => {
	test("truncated at every interesting offset", () => {
		const s = get();
		expect(s.cuts.length).toBeGreaterThan(100);
		for (const p of s.cuts) {
			for (const length of [p, p + 1]) {
				const r = outcome(s.bin, s.fd, Math.min(length, s.size));
				// Bytes that are not there are never read as zeros: a report is the whole core's,
				// and says the file is cut short.
				if ("error" in r) expect(r.error).not.toMatch(/mismatch|not the binary/i);
				else expectWholeButCut(r, s, Math.min(length, s.size));
			}
		}
	}, 120_000);

	test("truncated anywhere", () => {
		const s = get();
		fc.assert(
			fc.property(fc.integer({ min: 0, max: s.size - 1 }), (length) => {
				const r = outcome(s.bin, s.fd, length);
				if (!("error" in r)) expectWholeButCut(r, s, length);
			}),
			{ numRuns: 40 },
		);
	}, 120_000);

	test("bytes flipped in headers, notes and the runtime's memory, with either binary", () => {
		const s = get();
		const edit = fc.tuple(
			fc.constantFrom(...s.points),
			fc.integer({ min: 0, max: 7 }),
			fc.integer({ min: 0, max: 255 }),
		);
		fc.assert(
			fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), fc.boolean(), (edits, own) => {
				const m = new Map(edits.map(([p, d, v]) => [Math.min(p + d, s.size - 1), v]));
				const r = outcome(own ? s.bin : s.other, s.fd, s.size, m);
				// Another build's binary never reads as if it made the core.
				if (!own) expect(r).toHaveProperty("error");
			}),
			{ numRuns: 150 },
		);
	}, 120_000);

	test("words of allgs, the g structs and the stacks overwritten with other pcs, sps and gs", () => {
		const s = get();
		const edit = fc.tuple(fc.constantFrom(...s.words), fc.constantFrom(...s.values));
		fc.assert(
			fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
				const m = new Map<number, number>();
				for (const [at, value] of edits) {
					for (let i = 0; i < 8; i++) m.set(at + i, Number((value >> BigInt(8 * i)) & 0xffn));
				}
				outcome(s.bin, s.fd, s.size, m);
			}),
			{ numRuns: 150 },
		);
	}, 120_000);

	test("a segment split in two inside a page: the same report", () => {
		// The program headers moved to the end of the file, with the segment holding the first
		// goroutine's g split 0x18 bytes into the g: the same memory, so the same report.
		const s = get();
		const head = new Uint8Array(64);
		s.core.source.read(head, 0);
		const eh = new DataView(head.buffer);
		const phoff = Number(eh.getBigUint64(32, true));
		const phnum = eh.getUint16(56, true);
		const table = new Uint8Array(phnum * 56);
		s.core.source.read(table, phoff);
		const gp = s.report.goroutines[0]?.gp ?? 0;
		const t = new DataView(table.buffer);
		const field = (i: number, at: number) => Number(t.getBigUint64(i * 56 + at, true));
		const j = Array.from({ length: phnum }, (_, i) => i).find(
			(i) =>
				t.getUint32(i * 56, true) === 1 && gp >= field(i, 16) && gp < field(i, 16) + field(i, 32),
		);
		if (j === undefined) throw new Error(`no segment holds ${gp}`);
		const k = gp + 0x18 - field(j, 16);
		const split = new Uint8Array((phnum + 1) * 56);
		split.set(table.subarray(0, (j + 1) * 56));
		split.set(table.subarray(j * 56), (j + 1) * 56);
		const v = new DataView(split.buffer);
		const set = (i: number, at: number, value: number) =>
			v.setBigUint64(i * 56 + at, BigInt(value), true);
		set(j, 32, k);
		set(j, 40, k);
		for (const [at, d] of [
			[8, k],
			[16, k],
			[32, -k],
			[40, -k],
		] as const)
			set(j + 1, at, field(j, at) + d);
		const at = Math.ceil(s.size / 8) * 8;
		const edits = new Map<number, number>();
		for (const [i, b] of split.entries()) edits.set(at + i, b);
		for (let i = 0; i < 8; i++) edits.set(32 + i, Number((BigInt(at) >> BigInt(8 * i)) & 0xffn));
		edits.set(56, (phnum + 1) & 0xff);
		edits.set(57, (phnum + 1) >> 8);
		expect(outcome(s.bin, s.fd, at + split.length, edits)).toEqual(s.report);
	});

	test("bytes flipped in notes the reader ignores: the same report", () => {
		const s = get();
		if (s.ignored.length === 0) return;
		const at = fc
			.constantFrom(...s.ignored)
			.chain(([start, end]) => fc.integer({ min: start, max: end - 1 }));
		fc.assert(
			fc.property(
				fc.array(fc.tuple(at, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }),
				(edits) => {
					expect(outcome(s.bin, s.fd, s.size, new Map(edits))).toEqual(s.report);
				},
			),
			{ numRuns: 20 },
		);
	}, 120_000);
});

test("a stack that returns to itself (arm64): one line, as the runtime's traceback stuck", () => {
	const s = cores[2][1]();
	// A parked goroutine's g.sched.pc and the word at its g.sched.sp both set to the entry of
	// main.deref: at its entry the frame is empty (pcsp 0), so its caller is at the same sp, at
	// the pc read there, main.deref's entry again.
	const g = s.report.goroutines.find((x) => x.from === "sched");
	const layout = runtimeLayout(26);
	const deref = findFunctionByName(s.bin, "main.deref")[0];
	if (g === undefined || layout === undefined || deref === undefined) throw new Error("no subject");
	const entry = BigInt(s.bin.pclntab.func(deref).entry + s.report.bias);
	const sched = g.gp + layout.g.sched;
	const sp = g.frames[0]?.sp ?? 0;
	const edits = new Map<number, number>();
	for (const addr of [sched + layout.gobuf.pc, sp]) {
		const held = heldBytes(s.core, addr);
		if (held === undefined) throw new Error(`${addr} is not in the core`);
		for (let i = 0; i < 8; i++)
			edits.set(held.offset + i, Number((entry >> BigInt(8 * i)) & 0xffn));
	}
	expect(outcome(s.bin, s.fd, s.size, edits)).toEqual({
		error: expect.stringMatching(/^CoreError: .*main\.deref.*stuck/),
	});
});
