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

test("--crash: the real qemu crash of the reproducer names the victim's split window", async () => {
	const r = await gocrash(
		"symbolize",
		"../crashes/reproducer-go1.26-linux-arm64.gz",
		"--crash",
		"../crashes/reproducer-go1.26-linux-arm64.crash.txt",
	);
	expect(r.code).toBe(0);
	expect(r.stdout.split("\n")).toEqual([
		"load bias 0x0 (runtime.(*unwinder).next+0x170 pc=0x72b10)",
		"signal SIGSEGV PC: 0x72b10  runtime.(*unwinder).next+0x170  runtime/traceback.go:463",
		"goroutine 1 [preempted (scan)]: main.bigStack+0x9c = 0x8eebc  example.com/reproducer/main.go:23  ◀ exposed instruction of a split SP adjustment (golang/go#73259): pcsp says 0x10010, SP was 0x10000 below entry",
		"",
	]);
	// The same PC is the window `scan` reports for that binary.
	const scan = JSON.parse(
		(await gocrash("scan", "--json", "../crashes/reproducer-go1.26-linux-arm64.gz")).stdout,
	);
	expect(
		scan.splitSP
			.filter((s: { preemptible: boolean }) => s.preemptible)
			.map((s: { pc: string }) => s.pc),
	).toEqual(["0x8eebc"]);
});

test("--crash: a binary that did not print the crash is refused, with what differs", async () => {
	const r = await gocrash(
		"symbolize",
		"../../fixtures/diagnose/split-sp/splitsp-go1.26.10-linux-arm64-leaf.gz",
		"--crash",
		"../../fixtures/diagnose/split-sp/go1.24.4-arm64-non-leaf.txt",
	);
	expect(r.code).toBe(1);
	expect(r.stdout).toBe("");
	expect(r.stderr).toMatch(
		/^gocrash symbolize: \.\.\/\.\.\/fixtures\/diagnose\/split-sp\/splitsp-go1\.26\.10-linux-arm64-leaf\.gz does not match the crash in \.\.\/\.\.\/fixtures\/diagnose\/split-sp\/go1\.24\.4-arm64-non-leaf\.txt: binary is go1\.26\.10, crash is go1\.24\.4; /,
	);
	expect(r.stderr).not.toMatch(/0x-/);
});

test("--frame: a pc below the frame's link address gives no negative load base", async () => {
	// main.big_stack+0x84 at 0xa3bb4 is go1.24.4's frame; in the go1.26.10 build it is at 0xa8e44.
	const r = await gocrash(
		"symbolize",
		"../../fixtures/diagnose/split-sp/splitsp-go1.26.10-linux-arm64-leaf.gz",
		"0xa3bb4",
		"--frame",
		"main.big_stack+0x84@0xa3bb4",
	);
	expect(r.code).toBe(1);
	expect(r.stderr).toBe(
		"gocrash symbolize: ../../fixtures/diagnose/split-sp/splitsp-go1.26.10-linux-arm64-leaf.gz: main.big_stack+0x84 is 0xa8e44 in the binary, above the printed pc 0xa3bb4: no load base puts it there (is it the binary that crashed?)\n",
	);
});
