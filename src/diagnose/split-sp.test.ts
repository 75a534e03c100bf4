import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { expect, it } from "vitest";
import { parseGoBinary } from "../binary/index.js";
import { mergeRules, parseRuleFile } from "../knowledge/index.js";
import { parseCrashes } from "../traceback/index.js";
import { collectNotes, diagnose } from "./index.js";

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
