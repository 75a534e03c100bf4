import { describe, expect, test } from "vitest";
import { binaryFixtures, fileSource, fixtureBytes } from "../../test/binaries/_fixtures.js";
import { BinaryError, type FileSource, parseGoBinary, scanGoBinary, symbolizePC } from "./index.js";

// Which of test/binaries/frames' functions each toolchain splits (the matrix of
// ../shared/reference/go-binary-internals.md §3.6): every release splits leaf epilogues of frames
// in 0x10000..0xFFFFFF that are neither multiples of 0x1000 nor bitmask immediates; releases
// before the fix split the non-leaf ones too.
const splitLeaves = ["main.bigStack", "main.leaf0x10010", "main.leaf0x12345", "main.leafNear16M"];
const splitNonLeaves = [
	"main.bigStackNonLeaf",
	"main.nonLeaf0x10010",
	"main.nonLeaf0x12345",
	"main.nonLeafNear16M",
];
const fixedToolchains = new Set(["1.25", "1.26"]);

const fixtures = binaryFixtures();
const report = (input: Uint8Array | FileSource) => scanGoBinary(parseGoBinary(input));

describe.each(fixtures)("$name", (fx) => {
	const bin = parseGoBinary(fixtureBytes(fx.name));
	const report = scanGoBinary(bin);

	test("container and buildinfo", () => {
		expect(bin.format).toBe({ linux: "elf", darwin: "macho", windows: "pe" }[fx.goos]);
		expect(bin.arch).toBe(fx.goarch);
		expect(report.goVersion).toMatch(new RegExp(`^go${fx.toolchain.replace(".", "\\.")}\\.\\d+$`));
		expect(report.goos).toBe(fx.goos);
		expect(report.goarch).toBe(fx.goarch);
		expect(report.main?.path).toBe(`example.com/${fx.program}`);
		expect(bin.image.hasSymbols).toBe(fx.variant !== "stripped");
		const cgo = bin.buildInfo?.settings.find((s) => s.key === "CGO_ENABLED")?.value;
		expect(cgo).toBe(fx.variant === "cgo" ? "1" : "0");
	});

	test("pclntab: layout, function table, file:line", () => {
		expect(bin.pclntab.version).toBe(fx.toolchain === "1.19" ? "1.18" : "1.20");
		expect(bin.pclntab.quantum).toBe({ amd64: 1, "386": 1, s390x: 2 }[fx.goarch] ?? 4);
		expect(bin.pclntab.ptrSize).toBe(fx.goarch === "386" || fx.goarch === "arm" ? 4 : 8);
		expect(report.functions).toBeGreaterThan(1000);
		const names = new Map<string, number>();
		for (let i = 0; i < bin.pclntab.nfunc; i++) names.set(bin.pclntab.func(i).name, i);
		const main = names.get("main.main");
		expect(main).toBeDefined();
		const f = bin.pclntab.func(main as number);
		expect(f.entry).toBeLessThan(f.end);
		// The function's own entry must be found again by PC lookup, and its code must start
		// with the stack-bound check, which loads g.stackguard0 (arm64: ldr x16, [x28, #16]).
		expect(bin.pclntab.findFunc(f.entry)).toBe(main);
		expect(bin.pclntab.findFunc(f.end - 1)).toBe(main);
		const at = bin.pclntab.fileLine(f, f.entry);
		expect(at.file).toBe(`example.com/${fx.program}/main.go`);
		expect(at.line).toBeGreaterThan(0);
		if (fx.goarch === "arm64") {
			const seg = bin.image.segments.find(
				(s) => s.exec && f.entry >= s.addr && f.entry < s.addr + s.fileSize,
			);
			expect(seg).toBeDefined();
			const off = (seg?.offset ?? 0) + f.entry - (seg?.addr ?? 0);
			const word = new DataView(fixtureBytes(fx.name).buffer).getUint32(off, true);
			expect(word.toString(16)).toBe("f9400b90");
		}
	});

	if (fx.program === "frames") {
		test("split SP windows in main", () => {
			const main = report.splitSP.filter((s) => s.function.startsWith("main."));
			if (fx.goarch !== "arm64") {
				expect(report.splitSP).toEqual([]);
				expect(report.verdict).toBe("not-affected");
				return;
			}
			const expected = fixedToolchains.has(fx.toolchain)
				? splitLeaves
				: [...splitLeaves, ...splitNonLeaves].sort();
			expect(main.map((s) => s.function).sort()).toEqual(expected);
			for (const s of main) {
				expect(s.leaf).toBe(splitLeaves.includes(s.function));
				expect(s.asm).toBe(false);
				expect(s.preemptible).toBe(true);
				expect(s.unsafePoint).toBe(-1);
				expect(s.frameSize & 0xfff).not.toBe(0);
				expect(s.deltas[0] + s.deltas[1]).toBe(s.frameSize);
				expect(s.file).toMatch(/^example\.com\/frames\/(main|big)\.go$/);
			}
			const frame = (name: string) => main.find((s) => s.function === name)?.frameSize;
			expect(frame("main.leaf0x10010")).toBe(0x10010);
			expect(frame("main.bigStack")).toBe(0x10010);
			expect(report.verdict).toBe("affected");
			expect(report.hazardousFunctions.leaf.filter((n) => n.startsWith("main.")).sort()).toEqual(
				splitLeaves,
			);
			expect(report.nonLeafFix).toBe(fixedToolchains.has(fx.toolchain));
			expect(report.fixedEpilogues.length > 0).toBe(fixedToolchains.has(fx.toolchain));
		});
	} else {
		test("netlink (*NetlinkSocket).Receive", () => {
			const receive = report.splitSP.filter((s) => s.function.endsWith("(*NetlinkSocket).Receive"));
			const fixed = fixedToolchains.has(fx.toolchain);
			expect(receive.length).toBe(fixed ? 0 : 6);
			for (const s of receive) {
				expect(s.function).toBe("github.com/vishvananda/netlink/nl.(*NetlinkSocket).Receive");
				expect(s.leaf).toBe(false);
				expect(s.preemptible).toBe(true);
				expect(s.frameSize).toBe(0x10050);
				expect(s.file).toBe("github.com/vishvananda/netlink@v1.1.0/nl/nl_linux.go");
			}
			expect(report.verdict).toBe(fixed ? "not-affected" : "affected");
			expect(report.modules.map((m) => `${m.path} ${m.version}`)).toContain(
				"github.com/vishvananda/netlink v1.1.0",
			);
			expect(
				report.modules.find((m) => m.path === "github.com/vishvananda/netlink")?.replace?.path,
			).toBe("./deps/netlink");
		});
	}
});

describe("variants of one build agree", () => {
	const byToolchain = new Map<string, string[]>();
	for (const fx of fixtures) {
		if (fx.program !== "frames" || fx.goarch !== "arm64" || fx.variant === "cgo") continue;
		const list = byToolchain.get(fx.toolchain) ?? [];
		list.push(fx.name);
		byToolchain.set(fx.toolchain, list);
	}
	const sets = [...byToolchain.entries()].filter(([, names]) => names.length > 1);
	test.each(sets)("go%s: plain, PIE, stripped and darwin find the same windows", (_, names) => {
		const key = (name: string) =>
			scanGoBinary(parseGoBinary(fixtureBytes(name)))
				.splitSP.map((s) => `${s.function} ${s.frameSize} ${s.leaf} ${s.preemptible}`)
				.sort();
		const plain = names.find((n) => !/-(pie|stripped)$/.test(n) && n.includes("linux")) as string;
		for (const name of names) expect(key(name), name).toEqual(key(plain));
		const stripped = names.find((n) => n.endsWith("-stripped"));
		if (stripped !== undefined) {
			const pcs = (name: string) =>
				scanGoBinary(parseGoBinary(fixtureBytes(name))).splitSP.map((s) => s.pc);
			expect(pcs(stripped)).toEqual(pcs(plain));
		}
	});
});

describe("bad input", () => {
	test("a truncated ELF names what it could not read and where", () => {
		const bytes = fixtureBytes("frames-go1.24-linux-arm64").slice(0, 0x1000);
		expect(() => parseGoBinary(bytes)).toThrowError(BinaryError);
		try {
			parseGoBinary(bytes);
		} catch (error) {
			const e = error as BinaryError;
			expect(e.code).toBe("truncated");
			expect(e.format).toBe("elf");
			expect(e.message).toMatch(/^Cannot read .+: offset 0x[0-9a-f]+ exceeds file size 0x1000$/);
		}
	});

	test("a file that is not an executable", () => {
		const e = (() => {
			try {
				parseGoBinary(new TextEncoder().encode("#!/bin/sh\necho hi\n"));
			} catch (error) {
				return error as BinaryError;
			}
			return undefined;
		})();
		expect(e?.code).toBe("bad-magic");
		expect(e?.message).toBe("Not an ELF, Mach-O or PE file (unknown magic at offset 0x0)");
	});

	test("an ELF without Go", () => {
		const bytes = fixtureBytes("frames-go1.24-linux-arm64").slice();
		// Remove the section and wipe every pclntab magic so that nothing is found.
		for (let i = 0; i + 4 <= bytes.length; i += 4) {
			if (
				bytes[i] === 0xf1 &&
				bytes[i + 1] === 0xff &&
				bytes[i + 2] === 0xff &&
				bytes[i + 3] === 0xff
			) {
				bytes[i] = 0;
			}
		}
		expect(() => parseGoBinary(bytes)).toThrowError(/No Go pclntab found|Bad pclntab magic/);
	});
});

describe.each(fixtures)("$name read on demand", (fx) => {
	test("gives the same report from less than the whole file", () => {
		const bytes = fixtureBytes(fx.name);
		const source = fileSource(bytes);
		const lazy = parseGoBinary(source);
		expect(scanGoBinary(lazy)).toEqual(report(bytes));
		expect(source.bytesRead).toBeLessThan(bytes.length * 0.9);
		const split = scanGoBinary(lazy).splitSP[0];
		if (split !== undefined) {
			expect(symbolizePC(lazy, split.pc)).toEqual(symbolizePC(parseGoBinary(bytes), split.pc));
		}
	});
});

describe("without section headers (as sstrip leaves a binary)", () => {
	// Zero e_shoff, e_shnum and e_shstrndx: only program headers remain, so buildinfo comes from
	// the first writable segment, the pclntab from a scan for its magic, the text start from
	// moduledata (Go 1.26 no longer writes it in the pclntab header) and, in a PIE binary, the
	// pointers from the RELATIVE relocations found through the dynamic segment.
	test.each([
		"frames-go1.26-linux-arm64-stripped",
		"frames-go1.26-linux-arm64-pie",
		"frames-go1.19-linux-arm64-pie",
	])("%s", (name) => {
		const bytes = fixtureBytes(name).slice();
		const view = new DataView(bytes.buffer);
		view.setBigUint64(40, 0n, true);
		view.setUint16(60, 0, true);
		view.setUint16(62, 0, true);
		const bare = parseGoBinary(bytes);
		expect(bare.image.sections).toEqual([]);
		const full = parseGoBinary(fixtureBytes(name));
		expect(bare.pclntab.textStart).toBe(full.pclntab.textStart);
		expect(bare.buildInfo).toEqual(full.buildInfo);
		const pairs = (b: typeof bare) => scanGoBinary(b).splitSP.map((s) => `${s.function} ${s.pc}`);
		expect(pairs(bare)).toEqual(pairs(full));
		expect(pairs(bare).length).toBeGreaterThan(0);
		expect(report(fileSource(bytes))).toEqual(report(bytes));
	});
});

test("a universal (fat) Mach-O is read from its first slice, like debug/buildinfo", () => {
	const thin = fixtureBytes("frames-go1.26-darwin-arm64");
	// fat_header {magic 0xcafebabe, nfat_arch 1} + fat_arch {cputype arm64, cpusubtype 0,
	// offset 0x4000, size, align 2^14}, big-endian, then the slice at 0x4000.
	const fat = new Uint8Array(0x4000 + thin.length);
	const v = new DataView(fat.buffer);
	v.setUint32(0, 0xcafebabe);
	v.setUint32(4, 1);
	v.setUint32(8, 0x0100000c);
	v.setUint32(16, 0x4000);
	v.setUint32(20, thin.length);
	v.setUint32(24, 14);
	fat.set(thin, 0x4000);
	const pairs = (b: Uint8Array) =>
		scanGoBinary(parseGoBinary(b)).splitSP.map((s) => `${s.function} ${s.pc}`);
	expect(parseGoBinary(fat).buildInfo?.goVersion).toBe("go1.26.10");
	expect(pairs(fat)).toEqual(pairs(thin));
});

test("position independence, as the loader sees it", () => {
	const pie = (name: string) => parseGoBinary(fixtureBytes(name)).image.pie;
	expect(pie("frames-go1.24-linux-arm64")).toBe(false);
	expect(pie("frames-go1.24-linux-arm64-pie")).toBe(true);
	expect(pie("frames-go1.26-darwin-arm64")).toBe(true);
	expect(pie("frames-go1.26-windows-amd64")).toBe(true);
});
