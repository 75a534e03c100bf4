import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { expect, it } from "vitest";
import { parseGoBinary } from "../binary/index.js";
import { builtinRulesDir, loadRules } from "../cli/diagnose.js";
import { mergeRules, parseRuleFile } from "../knowledge/index.js";
import { type Frame, parseCrashes } from "../traceback/index.js";
import { collectNotes, diagnose, frameSize, isSplitFrameSize, splitSPVictims } from "./index.js";

const rulesDir = new URL("../knowledge/rules/", import.meta.url);
const { rules } = mergeRules(
	["compiler.json", "corruption.json", "runtime.json"].map((f) =>
		parseRuleFile(JSON.parse(readFileSync(new URL(f, rulesDir), "utf8")), f),
	),
);
const dir = new URL("../../test/fixtures/diagnose/split-sp/", import.meta.url);
const bin = parseGoBinary(
	gunzipSync(readFileSync(new URL("splitsp-go1.26.10-linux-arm64-leaf.gz", dir))),
);
const text = readFileSync(new URL("go1.26.10-arm64-leaf.txt", dir), "utf8");

it("maps the victim through a load base worked out from other frames (position-independent binaries)", () => {
	// The real crash as a PIE loaded at 0x7f0000000000 would print it, with the victim's
	// `+0x90` offset lost, so that only the printed pc and the load base can place it; the binary
	// says it is position-independent (ELF ET_DYN), as a PIE's header does.
	const pie = { ...bin, image: { ...bin.image, pie: true } };
	const rebased = text
		.replace(
			/pc=(0x[0-9a-f]+)/g,
			(_, pc: string) => `pc=0x${(BigInt(pc) + 0x7f0000000000n).toString(16)}`,
		)
		.replace("leaf.go:19 +0x90 fp=", "leaf.go:19 fp=");
	const d = diagnose(parseCrashes(rebased), {
		rules,
		notes: collectNotes(rebased),
		binary: { name: "bin", bin: pie },
	});
	const top = d.findings[0];
	expect(top?.id).toBe("go-arm64-split-sp-epilogue");
	expect(top?.confidence).toBe("confirmed");
	expect(top?.evidence.join("\n")).toMatch(
		/stopped at main\.big_stack\+0x90 = 0xa8e50, exactly the second half/,
	);
	expect(top?.evidence.join("\n")).toContain(
		"load base 0x7f0000000000 (position-independent binary): printed pc 0x7f00000a8e50 is 0xa8e50 in bin",
	);
	expect(d.binary?.loadBase).toBe(0x7f0000000000);
});

it("does not confirm when the victim's PC is not on a split window", () => {
	// As if the victim had been preempted one instruction earlier (offset and pc moved together).
	const moved = text.replace(
		"leaf.go:19 +0x90 fp=0x2839bb0fffc0 sp=0x2839bb0effb0 pc=0xa8e50",
		"leaf.go:19 +0x8c fp=0x2839bb0fffc0 sp=0x2839bb0effb0 pc=0xa8e4c",
	);
	expect(moved).not.toBe(text);
	const d = diagnose(parseCrashes(moved), {
		rules,
		notes: collectNotes(moved),
		binary: { name: "bin", bin },
	});
	expect(d.binary?.matches).toBe(true);
	expect(d.findings[0]?.id).toBe("go-arm64-split-sp-epilogue");
	expect(d.findings[0]?.confidence).toBe("possible");
	expect(d.findings[0]?.evidence.join("\n")).toMatch(/not on one of the function's split windows/);
});

it("names first the preempted goroutine whose frame (fp−sp) is in the split range", () => {
	// go1.21 prints no gp=, so scanstack's argument cannot say which goroutine was being scanned;
	// of the four preempted goroutines, two are in main.big_stack's 0x10010-byte frame, and
	// goroutine 11 was being scanned.
	const crash = parseCrashes(readFileSync(new URL("go1.21.13-arm64-leaf.txt", dir), "utf8"))
		.crashes[0];
	const victims = crash === undefined ? [] : splitSPVictims(crash);
	expect(victims.map((v) => [v.goroutine.id, v.frame.function, frameSize(v.frame)])).toEqual([
		[11, "main.big_stack", 0x10010],
		[9, "main.big_stack", 0x10010],
		[8, "main.work", 0x20],
		[7, "main.big_stack", 0],
	]);
	const d = diagnose(parseCrashes(readFileSync(new URL("go1.21.13-arm64-leaf.txt", dir), "utf8")), {
		rules,
	});
	expect(d.findings[0]?.steps[0]).toContain(
		"checks that main.big_stack stopped on a split epilogue",
	);
	expect(d.findings[0]?.evidence).toContain(
		"victim goroutine 11 [runnable (scan)] was asynchronously preempted (runtime.asyncPreempt) in main.big_stack (gocrash.example/splitsp/leaf.go:19) +0x88 pc=0x8f5c8; its frame is 0x10010 bytes (fp−sp), in the split range 0x10000–0xFFFFFF",
	);
});

it("reads a frame's size from fp= minus sp=, and knows the sizes arm64 pops in two ADDs", () => {
	const frame = (fp: string | null, sp: string | null) =>
		({
			...parseCrashes("goroutine 1 [running]:\nmain.f()\n\t/a.go:1 +0x4\n").crashes[0]
				?.goroutines[0]?.frames[0],
			fp,
			sp,
		}) as Frame;
	expect(frameSize(frame("0x40000fdfe0", "0x40000edfb0"))).toBe(0x10030);
	expect(frameSize(frame(null, "0x40000edfb0"))).toBeNull();
	expect(frameSize(frame("0x10", "0x20"))).toBeNull();
	expect([0xffff, 0x10000, 0x10010, 0x11000, 0xfffff0, 0x1000010].map(isSplitFrameSize)).toEqual([
		false,
		false,
		true,
		false,
		true,
		false,
	]);
});

it("does not name the arm64 bug for an unwinder crash whose goroutine addresses are in amd64's heap", () => {
	// golang/go#64030, pasted with a timestamp on every line: go1.22.1 on linux/amd64, though no
	// file name or register dump in the text says so (test/fixtures/wild/README.md).
	const wild = readFileSync(
		new URL("../../test/fixtures/wild/unwinder-sigsegv-amd64.txt", import.meta.url),
		"utf8",
	);
	const d = diagnose(parseCrashes(wild), { rules, notes: collectNotes(wild) });
	expect(d.environment.goarchExcluded?.source).toMatch(/^goroutine addresses such as 0xc000103180/);
	expect(d.findings.map((f) => f.id)).not.toContain("go-arm64-split-sp-epilogue");
	// The same text with arm64's heap addresses is the arm64 bug's crash again.
	const arm = wild.replaceAll("0xc0", "0x40");
	const onArm = diagnose(parseCrashes(arm), { rules, notes: collectNotes(arm) });
	expect(onArm.environment.goarch?.value).toBe("arm64");
	expect(onArm.findings[0]?.id).toBe("go-arm64-split-sp-epilogue");
});

it("does not name the arm64 bug for a fault in a macOS system library that sigpanic cannot unwind", async () => {
	// wtfutil/wtf#1099 (test/fixtures/wild/README.md): `unexpected return pc for runtime.sigpanic
	// called from` the signal's pc, in macOS's libraries, at darwin/amd64's malformed-address value.
	const wild = readFileSync(
		new URL("../../test/fixtures/wild/darwin-malformed-address-wtf.txt", import.meta.url),
		"utf8",
	);
	const all = (await loadRules([builtinRulesDir])).rules;
	const d = diagnose(parseCrashes(wild), { rules: all, notes: collectNotes(wild) });
	expect([d.environment.goos?.value, d.environment.goarch?.value]).toEqual(["darwin", "amd64"]);
	expect(d.findings.map((f) => [f.id, f.confidence])).toEqual([
		["darwin-malformed-address", "likely"],
	]);
	// With an ordinary fault address the environment is unknown, and sigpanic's caller still says
	// the fault was outside Go code, not a frame popped halfway.
	const elsewhere = wild.replace("addr=0xb01dfacedebac1e", "addr=0x18");
	const ids = diagnose(parseCrashes(elsewhere), {
		rules: all,
		notes: collectNotes(elsewhere),
	}).findings;
	expect(ids.map((f) => f.id)).not.toContain("go-arm64-split-sp-epilogue");
});
