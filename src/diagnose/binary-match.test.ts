import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { type GoBinary, parseGoBinary } from "../binary/index.js";
import { parseCrashes } from "../traceback/index.js";
import { type BinaryMatch, collectNotes, formatBinaryMismatch, matchBinary } from "./index.js";

// Real crashes and the binaries that printed them: the split-SP reproducer built by Debian's
// go1.24.4 and go1.26.10 (test/fixtures/diagnose/split-sp), test/binaries/reproducer built by
// go1.26.10 (test/binaries/crashes), and a crashgen crash of go1.24.4 (GOROOT /usr/lib/go-1.24/).
const fixtures = new URL("../../test/fixtures/", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, fixtures), "utf8");
const binary = (path: string): GoBinary =>
	parseGoBinary(gunzipSync(readFileSync(new URL(path, fixtures))));

const leaf126 = binary("diagnose/split-sp/splitsp-go1.26.10-linux-arm64-leaf.gz");
const nonLeaf124 = binary("diagnose/split-sp/splitsp-go1.24.4-linux-arm64-non-leaf.gz");
const reproducer126 = binary("../binaries/crashes/reproducer-go1.26-linux-arm64.gz");
const leafText = read("diagnose/split-sp/go1.26.10-arm64-leaf.txt");
const nonLeafText = read("diagnose/split-sp/go1.24.4-arm64-non-leaf.txt");
const reproducerText = read("../binaries/crashes/reproducer-go1.26-linux-arm64.crash.txt");
const crashgen124 = read("crashes/go1.24.4-arm64/deadlock.system.txt");

function match(text: string, bin: GoBinary): BinaryMatch {
	return matchBinary(parseCrashes(text), collectNotes(text), "bin", bin);
}

/** Every printed pc= moved by `delta`, as a binary loaded `delta` from its link addresses prints them. */
function rebase(text: string, delta: bigint): string {
	return text.replace(
		/pc=(0x[0-9a-f]+)/g,
		(_, pc: string) => `pc=0x${(BigInt(pc) + delta).toString(16)}`,
	);
}

describe("matchBinary", () => {
	it.each([
		["split-SP leaf, go1.26.10", leafText, leaf126],
		["split-SP non-leaf, go1.24.4", nonLeafText, nonLeaf124],
		["reproducer, go1.26.10", reproducerText, reproducer126],
	])("accepts the binary that printed the crash (%s)", (_, text, bin) => {
		const m = match(text, bin);
		expect(m.differences).toEqual([]);
		expect(m.matches).toBe(true);
		expect(m.loadBase).toBe(0);
		expect(m.pie).toBe(false);
		expect(m.goarch).toMatchObject({ text: "arm64", binary: "arm64", agrees: true });
		expect(m.frames).toBe((text.match(/ \+0x[0-9a-f]+/g) ?? []).length);
	});

	it("rejects an arm64 binary for a text whose addresses are in amd64's heap", () => {
		// golang/go#64030's amd64 crash, which names no GOARCH (test/fixtures/wild/README.md).
		const m = match(read("wild/unwinder-sigsegv-amd64.txt"), leaf126);
		expect(m.matches).toBe(false);
		expect(m.differences).toContainEqual(
			expect.stringMatching(
				/^binary is arm64, crash is not \(goroutine addresses such as 0xc000103180: /,
			),
		);
		expect(match(leafText, leaf126).differences).toEqual([]);
	});

	it("rejects another toolchain's build of the same program, saying what differs", () => {
		const m = match(nonLeafText, leaf126);
		expect(m.matches).toBe(false);
		expect(m.goVersion).toEqual({
			text: "1.24.4",
			textSource: 'line "splitsp: go1.24.4 linux/arm64 variant=non-leaf workers=8"',
			binary: "1.26.10",
			agrees: false,
		});
		expect(m.differences[0]).toBe("binary is go1.26.10, crash is go1.24.4");
		expect(m.differences).toContain("1 of 86 frames' functions are not in the binary");
		expect(m.differences.join("\n")).toMatch(
			/^75 of 86 frames' file:line differ from the binary's \(runtime\.throw\+0x38: crash says runtime\/panic\.go:1101, binary runtime\/panic\.go:1229\)$/m,
		);
		expect(m.differences.join("\n")).toMatch(/give 24 different load bases/);
		expect(m.loadBase).toBeNull();
		expect(formatBinaryMismatch(m)).toMatch(
			/^bin does not match this crash: binary is go1\.26\.10, crash is go1\.24\.4; .*; it is left out of the evidence$/,
		);
	});

	it("reads the crash's Go version from its GOROOT paths", () => {
		const m = match(crashgen124, leaf126);
		expect(m.goVersion?.text).toBe("1.24");
		expect(m.goVersion?.textSource).toMatch(/^GOROOT path .*\/usr\/lib\/go-1\.24\/src\//);
		expect(m.differences[0]).toBe("binary is go1.26.10, crash is go1.24");
	});

	it("rejects another program built by the same toolchain", () => {
		const m = match(reproducerText, leaf126);
		expect(m.goVersion?.agrees ?? true).toBe(true);
		expect(m.differences).toEqual([
			"1 of 15 frames' functions are not in the binary",
			"the frames' pc= and offsets give 4 different load bases (the binary that crashed gives one)",
		]);
	});

	it("rejects a binary of another GOARCH", () => {
		const amd64 = parseGoBinary(
			gunzipSync(
				readFileSync(new URL("../binaries/fixtures/frames-go1.26-linux-amd64.gz", fixtures)),
			),
		);
		expect(match(leafText, amd64).differences[0]).toBe("binary is amd64, crash is arm64");
	});

	it("rejects the next build of the program: one frame's line moved", () => {
		const edited = leafText.replace(
			"leaf.go:19 +0x90 fp=0x2839bb0fffc0",
			"leaf.go:21 +0x90 fp=0x2839bb0fffc0",
		);
		expect(edited).not.toBe(leafText);
		expect(match(edited, leaf126).differences).toEqual([
			"1 of 85 frames' file:line differ from the binary's (main.big_stack+0x90: crash says gocrash.example/splitsp/leaf.go:21, binary gocrash.example/splitsp/leaf.go:19)",
		]);
	});

	it("rejects a frame whose offset is past the end of its function", () => {
		const edited = leafText.replace("leaf.go:19 +0x90 fp=", "leaf.go:19 +0x9000 fp=");
		expect(match(edited, leaf126).differences[0]).toBe(
			"1 of 85 frames' offsets are past the end of their function",
		);
	});

	it("never calls a non-PIE binary position-independent, nor prints a negative address", () => {
		const up = match(rebase(leafText, 0x10000n), leaf126);
		expect(up.differences).toEqual([
			"the binary is not position-independent, yet the frames' pc= are 0x10000 above its addresses",
		]);
		const down = match(rebase(leafText, -0x5290n), leaf126);
		expect(down.differences).toEqual([
			"the binary is not position-independent, yet the frames' pc= are 0x5290 below its addresses",
		]);
		for (const m of [up, down, match(nonLeafText, leaf126), match(reproducerText, leaf126)]) {
			expect(formatBinaryMismatch(m)).not.toMatch(/0x-|-0x/);
		}
	});

	it("accepts a PIE at a page-aligned base, and only there", () => {
		const pie = { ...leaf126, image: { ...leaf126.image, pie: true } };
		const loaded = match(rebase(leafText, 0xaaaab0000000n), pie);
		expect(loaded.differences).toEqual([]);
		expect(loaded.loadBase).toBe(0xaaaab0000000);
		expect(match(rebase(leafText, 0xaaaab0000800n), pie).differences).toEqual([
			"the frames' pc= give load base 0xaaaab0000800, which is not page-aligned",
		]);
		expect(match(rebase(leafText, -0x1000n), pie).differences).toEqual([
			"the frames' pc= are 0x1000 below the binary's addresses, where no load base puts them",
		]);
	});

	it("takes no Go version from lines that name several", () => {
		const text = `built with go1.24.4, deployed next to go1.26.10\n${leafText}`;
		expect(match(text, leaf126).goVersion).toBeNull();
	});
});
