import { describe, expect, test } from "vitest";
import { fixtureBytes } from "../../test/binaries/_fixtures.js";
import { parseGoBinary } from "../binary/index.js";
import { CoreError } from "./_error.js";
import { chooseLayout, runtimeLayout } from "./_layout.js";

// A fixture binary whose buildinfo and runtime.buildVersion say go1.99.10 instead of go1.26.10:
// a Go release the table does not have.
function asGo199(name: string): Uint8Array {
	const bytes = fixtureBytes(name).slice();
	const from = new TextEncoder().encode("go1.26.10");
	let patched = 0;
	for (let i = bytes.indexOf(0x67); i >= 0; i = bytes.indexOf(0x67, i + 1)) {
		if (from.every((b, j) => bytes[i + j] === b)) {
			bytes.set(new TextEncoder().encode("go1.99.10"), i);
			patched++;
		}
	}
	expect(patched).toBeGreaterThan(0);
	return bytes;
}

describe("chooseLayout", () => {
	test("a binary with DWARF: its DWARF, equal to the table of its Go", () => {
		const got = chooseLayout(parseGoBinary(fixtureBytes("frames-go1.26-linux-amd64")));
		expect(got.source).toBe("dwarf");
		expect(got.layout).toEqual(runtimeLayout(26));
	});

	test("a binary with DWARF of a Go the table lacks: its DWARF", () => {
		const bin = parseGoBinary(asGo199("frames-go1.26-linux-amd64"));
		expect(bin.buildInfo?.goVersion).toBe("go1.99.10");
		const got = chooseLayout(bin);
		expect(got.source).toBe("dwarf");
		expect(got.layout).toEqual(runtimeLayout(26));
	});

	test("-ldflags='-s -w': the table", () => {
		const got = chooseLayout(parseGoBinary(fixtureBytes("frames-go1.26-linux-arm64-stripped")));
		expect(got).toEqual({ source: "table", layout: runtimeLayout(26) });
	});

	test("no DWARF, and a Go the table lacks: one error saying what to do", () => {
		const bin = parseGoBinary(asGo199("frames-go1.26-linux-arm64-stripped"));
		expect(() => chooseLayout(bin)).toThrow(
			new CoreError(
				"unsupported",
				"The go1.99.10 binary has no DWARF (built with -ldflags=-w, or stripped), and gocrash's runtime layout table has Go 1.19, 1.21, 1.22, 1.23, 1.24, 1.25, 1.26 only: rebuild without -ldflags=-w, or use a gocrash that knows Go 1.99",
				0,
			),
		);
	});
});
