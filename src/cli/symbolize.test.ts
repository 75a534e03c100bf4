import { expect, test } from "vitest";
import { gocrash } from "../../test/binaries/_cli.js";

test("PCs resolve to function+offset and file:line", async () => {
	const bin = "frames-go1.24-linux-arm64.gz";
	const scan = JSON.parse((await gocrash("scan", "--json", bin)).stdout);
	const split = scan.splitSP.find((s: { function: string }) => s.function === "main.bigStack");
	const r = await gocrash("symbolize", bin, split.pc);
	expect(r.code).toBe(0);
	expect(r.stdout).toMatch(
		new RegExp(
			`^${split.pc}  main\\.bigStack\\+0x[0-9a-f]+  example\\.com/frames/main\\.go:${split.line}\\n$`,
		),
	);
});

test("PIE crash PCs: the load base comes from one known frame", async () => {
	const bin = "frames-go1.24-linux-arm64-pie.gz";
	const scan = JSON.parse((await gocrash("scan", "--json", bin)).stdout);
	const split = scan.splitSP.find((s: { function: string }) => s.function === "main.bigStack");
	const link = Number.parseInt(split.pc, 16);
	const base = 0xaaaaaaaa0000;
	const first = await gocrash("symbolize", bin, `0x${(base + link).toString(16)}`);
	expect(first.code).toBe(1);
	expect(first.stdout).toContain("pass --frame");
	// The crash printed main.bigStack+0x4 at some PC: that fixes the base for every other PC.
	const r = await gocrash(
		"symbolize",
		"--json",
		bin,
		`0x${(base + link).toString(16)}`,
		"--frame",
		`main.bigStack+0x4@0x${(base + link - 0x98 + 0x4).toString(16)}`,
	);
	const doc = JSON.parse(r.stdout);
	expect(r.code).toBe(0);
	expect(doc).toEqual({
		pc: `0x${(base + link).toString(16)}`,
		linkPC: split.pc,
		function: "main.bigStack",
		offset: expect.stringMatching(/^0x/),
		file: "example.com/frames/main.go",
		line: split.line,
	});
	expect(Number.parseInt(doc.offset, 16)).toBe(0x98);
});

test("bad PCs and frames are usage errors", async () => {
	expect((await gocrash("symbolize", "frames-go1.24-linux-arm64.gz", "xyz")).code).toBe(2);
	const r = await gocrash(
		"symbolize",
		"frames-go1.24-linux-arm64.gz",
		"0x1",
		"--frame",
		"nosuch+0x4@0x10",
	);
	expect(r.code).toBe(1);
	expect(r.stderr).toBe(
		"gocrash symbolize: frames-go1.24-linux-arm64.gz: No function nosuch in the binary\n",
	);
});
