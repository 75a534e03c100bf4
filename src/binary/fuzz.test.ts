import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { fileSource, fixtureBytes } from "../../test/binaries/_fixtures.js";
import {
	annotateFunction,
	BinaryError,
	type FileSource,
	parseGoBinary,
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
		return { report, symbolized, annotated };
	} catch (error) {
		if (!(error instanceof BinaryError)) throw error;
		expect(error.message).toMatch(
			/^(Cannot read|Not an ELF|No Go pclntab|Bad pclntab|Cannot find|No function)/,
		);
		return error.message;
	}
}

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
