import { inflateSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { fileSource, fixtureBytes } from "../../test/binaries/_fixtures.js";
import {
	annotateFunction,
	BinaryError,
	type FileSource,
	parseGoBinary,
	parseImage,
	readDwarfStructs,
	scanGoBinary,
	symbolizePC,
} from "./index.js";

// Every reader on hostile bytes: either a result or the documented BinaryError, never anything
// else (no RangeError, TypeError, endless loop or huge allocation); and the same outcome whether
// the bytes are all in memory or read on demand.
function readAll(bytes: Uint8Array): void {
	expect(outcome(fileSource(bytes))).toEqual(outcome(bytes));
}

function outcome(input: Uint8Array | FileSource): unknown {
	try {
		const bin = parseGoBinary(input);
		const report = scanGoBinary(bin);
		const symbolized = report.splitSP.slice(0, 3).map((s) => symbolizePC(bin, s.pc));
		const n = bin.pclntab.nfunc;
		const annotated = [0, n >> 1, n - 1]
			.filter((i) => i >= 0 && i < n)
			.map((i) => annotateFunction(bin, i));
		const dwarf = readDwarfStructs(bin.image, dwarfStructs);
		return { report, symbolized, annotated, dwarf };
	} catch (error) {
		if (!(error instanceof BinaryError)) throw error;
		expect(error.message).toMatch(
			/^(Cannot read|Cannot decompress|Not an ELF|No Go pclntab|Bad pclntab|Cannot find|No function)/,
		);
		return error.message;
	}
}

const dwarfStructs = ["runtime.g", "runtime.stack", "runtime.gobuf", "runtime.m"];

const sources = [
	"frames-go1.19-linux-arm64-stripped",
	"frames-go1.26-linux-arm64-stripped",
	"frames-go1.24-linux-arm64-pie",
	"frames-go1.26-darwin-arm64",
	"frames-go1.26-windows-arm64",
	"frames-go1.26-linux-s390x",
	"frames-go1.26-linux-arm",
];

describe.each(sources)("%s", (name) => {
	const original = fixtureBytes(name);

	test("truncated anywhere", () => {
		fc.assert(
			fc.property(fc.integer({ min: 0, max: original.length - 1 }), (length) => {
				readAll(original.slice(0, length));
			}),
			{ numRuns: 150 },
		);
	});

	test("mutated headers and tables", () => {
		// Offsets in the first 8 KiB hit the container headers; the rest hit tables and code.
		const offset = fc.oneof(
			fc.integer({ min: 0, max: 0x2000 }),
			fc.integer({ min: 0, max: original.length - 1 }),
		);
		fc.assert(
			fc.property(
				fc.array(fc.tuple(offset, fc.integer({ min: 0, max: 255 })), {
					minLength: 1,
					maxLength: 16,
				}),
				(edits) => {
					const bytes = original.slice();
					for (const [at, value] of edits) bytes[at] = value;
					readAll(bytes);
				},
			),
			{ numRuns: 150 },
		);
	});
});

test("random bytes", () => {
	fc.assert(
		fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
			readAll(bytes);
		}),
		{ numRuns: 200 },
	);
});

test("a valid header over garbage", () => {
	const headers = [
		"frames-go1.26-linux-arm64-stripped",
		"frames-go1.26-darwin-arm64",
		"frames-go1.26-windows-arm64",
	].map((n) => fixtureBytes(n).slice(0, 0x400));
	fc.assert(
		fc.property(
			fc.constantFrom(...headers),
			fc.uint8Array({ minLength: 0, maxLength: 0x4000 }),
			(head, tail) => {
				const bytes = new Uint8Array(head.length + tail.length);
				bytes.set(head);
				bytes.set(tail, head.length);
				readAll(bytes);
			},
		),
		{ numRuns: 200 },
	);
});

// A copy of a 64-bit little-endian ELF fixture whose section `name` holds `contents`, appended
// to the file, with SHF_COMPRESSED cleared: the DWARF as a linker writes it uncompressed.
function withPlainSection(bytes: Uint8Array, name: string, contents: Uint8Array): Uint8Array {
	const index = parseImage(bytes).sections.findIndex((s) => s.name === name);
	expect(index).toBeGreaterThan(0);
	const out = new Uint8Array(bytes.length + contents.length);
	out.set(bytes);
	out.set(contents, bytes.length);
	const v = new DataView(out.buffer);
	const header = Number(v.getBigUint64(40, true)) + index * v.getUint16(58, true);
	v.setBigUint64(header + 8, v.getBigUint64(header + 8, true) & ~0x800n, true);
	v.setBigUint64(header + 24, BigInt(bytes.length), true);
	v.setBigUint64(header + 32, BigInt(contents.length), true);
	return out;
}

function sectionBytes(bytes: Uint8Array, name: string): Uint8Array {
	const s = parseImage(bytes).sections.find((x) => x.name === name);
	if (s === undefined) throw new Error(`no ${name}`);
	// Elf64_Chdr (24 bytes), then the zlib stream.
	return new Uint8Array(inflateSync(bytes.subarray(s.offset + 24, s.offset + s.fileSize)));
}

describe.each(["frames-go1.26-linux-amd64", "frames-go1.19-linux-arm64"])(
	"%s: hostile DWARF",
	(name) => {
		const original = fixtureBytes(name);
		const structs = (bytes: Uint8Array) => readDwarfStructs(parseImage(bytes), dwarfStructs);
		const info = sectionBytes(original, ".debug_info");
		const abbrev = sectionBytes(original, ".debug_abbrev");
		const dwarfOutcome = (bytes: Uint8Array): unknown => {
			const inMemory = (() => {
				try {
					return structs(bytes);
				} catch (error) {
					if (!(error instanceof BinaryError)) throw error;
					expect(error.message).toMatch(/^Cannot (read|decompress) /);
					return error.message;
				}
			})();
			let onDemand: unknown;
			try {
				onDemand = readDwarfStructs(parseImage(fileSource(bytes)), dwarfStructs);
			} catch (error) {
				onDemand = error instanceof BinaryError ? error.message : error;
			}
			expect(onDemand).toEqual(inMemory);
			return inMemory;
		};

		test("uncompressed sections read as the compressed ones", () => {
			const plain = withPlainSection(
				withPlainSection(original, ".debug_info", info),
				".debug_abbrev",
				abbrev,
			);
			expect(parseImage(plain).sections.find((s) => s.name === ".debug_info")?.compressed).toBe(
				undefined,
			);
			expect(structs(plain)).toEqual(structs(original));
			expect(structs(plain)?.get("runtime.g")?.members.get("goid")).toBe(152);
		});

		test("mutated .debug_info and .debug_abbrev", () => {
			fc.assert(
				fc.property(
					fc.constantFrom(".debug_info", ".debug_abbrev"),
					fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
						minLength: 1,
						maxLength: 8,
					}),
					(section, edits) => {
						const contents = (section === ".debug_info" ? info : abbrev).slice();
						for (const [at, value] of edits) contents[at % contents.length] = value;
						dwarfOutcome(withPlainSection(original, section, contents));
					},
				),
				{ numRuns: 100 },
			);
		});

		test("truncated .debug_info and .debug_abbrev", () => {
			fc.assert(
				fc.property(
					fc.constantFrom(".debug_info", ".debug_abbrev"),
					fc.double({ min: 0, max: 1, noNaN: true }),
					(section, fraction) => {
						const contents = section === ".debug_info" ? info : abbrev;
						const cut = contents.subarray(0, Math.floor(contents.length * fraction));
						dwarfOutcome(withPlainSection(original, section, cut));
					},
				),
				{ numRuns: 100 },
			);
		});

		test("mutated compression headers and streams", () => {
			const s = parseImage(original).sections.find((x) => x.name === ".debug_info");
			if (s === undefined) throw new Error("no .debug_info");
			fc.assert(
				fc.property(
					fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 255 })), {
						minLength: 1,
						maxLength: 4,
					}),
					(edits) => {
						const bytes = original.slice();
						for (const [at, value] of edits) bytes[s.offset + at] = value;
						dwarfOutcome(bytes);
					},
				),
				{ numRuns: 100 },
			);
			// A declared size past what zlib can expand to is refused before inflating.
			const huge = original.slice();
			new DataView(huge.buffer).setBigUint64(s.offset + 8, 1n << 40n, true);
			expect(() => structs(huge)).toThrow(
				/^Cannot read \.debug_info: \d+ bytes from \d+ compressed/,
			);
		});
	},
);
