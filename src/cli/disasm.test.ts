import { expect, test } from "vitest";
import { gocrash } from "../../test/binaries/_cli.js";

test("disasm marks the split window of a leaf function", async () => {
	const r = await gocrash("disasm", "frames-go1.26-linux-arm64.gz", "main.bigStack");
	expect(r.code).toBe(0);
	const lines = r.stdout.split("\n");
	expect(lines[0]).toMatch(
		/^TEXT main\.bigStack\(SB\) example\.com\/frames\/main\.go {2}\[0x[0-9a-f]+, 0x[0-9a-f]+\) Go$/,
	);
	const split = lines.filter((l) => l.includes("SPLIT SP"));
	expect(split).toHaveLength(1);
	expect(split[0]).toMatch(
		/main\.go:\d+ +0x[0-9a-f]+ +914043ff +add sp, sp, #0x10, lsl #12 +sp=0x10010 +◀ SPLIT SP: real SP is 0x10000 below entry, pcsp says 0x10010; async-preemptible/,
	);
	// The prologue commits the new SP in one instruction, marked as an async-unsafe point.
	expect(r.stdout).toMatch(/9100029f +mov sp, x20 +sp=0x0 +unsafe/);
});

test("disasm by PC and by FILE:LINE", async () => {
	const bin = "netlink-go1.24-linux-arm64.gz";
	const scan = JSON.parse((await gocrash("scan", "--json", bin)).stdout);
	const receive = scan.splitSP.filter((s: { function: string }) => s.function.endsWith("Receive"));
	const byPC = await gocrash("disasm", bin, receive[0].pc);
	expect(byPC.stdout.split("\n").filter((l) => l.includes("SPLIT SP"))).toHaveLength(6);
	expect(byPC.stdout).toContain(`→  nl_linux.go:${receive[0].line}  ${receive[0].pc}  914043ff`);
	const byLine = await gocrash("disasm", bin, `nl/nl_linux.go:${receive[0].line}`);
	expect(byLine.stdout).toContain(
		"TEXT github.com/vishvananda/netlink/nl.(*NetlinkSocket).Receive(SB)",
	);
});

test("fixed toolchains pop non-leaf frames in one instruction", async () => {
	const r = await gocrash("disasm", "netlink-go1.26-linux-arm64.gz", "(*NetlinkSocket).Receive");
	expect(r.code).toBe(0);
	expect(r.stdout).not.toContain("SPLIT SP");
	expect(r.stdout).toMatch(/8b3b63ff +add sp, sp, x27/);
});

test("amd64 code disassembles too", async () => {
	const r = await gocrash("disasm", "frames-go1.26-linux-amd64.gz", "main.bigStack");
	expect(r.code).toBe(0);
	expect(r.stdout).toMatch(/4881c400000100 +add rsp, 0x10000 +sp=0x10008/);
});

test("unknown functions are one line", async () => {
	const r = await gocrash("disasm", "frames-go1.26-linux-amd64.gz", "main.nope");
	expect(r.code).toBe(1);
	expect(r.stderr).toBe("gocrash disasm: frames-go1.26-linux-amd64.gz: no function main.nope\n");
});

test("big-endian and 32-bit code disassembles too", async () => {
	const s390x = await gocrash("disasm", "frames-go1.26-linux-s390x.gz", "main.bigStack");
	// g.stackguard0 load at entry: lg %r10, 0x10(%r13) (R13 is g on s390x).
	expect(s390x.stdout).toMatch(/main\.go:\d+ +0x[0-9a-f]+ +e3a0d0100004 +lg %r10, 0x10\(%r13\)/);
	const arm = await gocrash("disasm", "frames-go1.26-linux-arm.gz", "main.bigStack");
	expect(arm.stdout).toMatch(/e59a1008 +ldr r1, \[sl, #8\]/);
});
