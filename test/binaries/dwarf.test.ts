// The DWARF reader against gdb: for the fixture of every toolchain and architecture (DWARF 4 and
// 5; ELF little- and big-endian, 32- and 64-bit, with SHF_COMPRESSED sections; PE with .zdebug
// ones) and for a corecrash built with -ldflags=-compressdwarf=false (plain sections), the size
// and every member offset of runtime.g, runtime.stack, runtime.gobuf and runtime.m that
// readDwarfStructs reads equal what gdb prints from the same file. gdb reads neither Mach-O nor
// PE for arm64: there runtime.g and runtime.gobuf (the same on every OS) must equal linux/arm64's
// of the same toolchain.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type DwarfStruct, parseImage, readDwarfStructs } from "../../src/binary/index.js";
import { type BinaryFixture, binaryFixtures, fixtureBytes } from "./_fixtures.js";

const root = new URL("../../", import.meta.url).pathname;
const structs = ["runtime.g", "runtime.stack", "runtime.gobuf", "runtime.m"];
let dir = "";
let plain = "";

beforeAll(async () => {
	dir = mkdtempSync(`${tmpdir()}/gocrash-dwarf-`);
	const go = execFileSync(`${root}scripts/go-toolchain.sh`, ["1.26"], { encoding: "utf8" }).trim();
	plain = `${dir}/corecrash-plain-dwarf`;
	await promisify(execFile)(
		go,
		["build", "-trimpath", "-buildvcs=false", "-ldflags=-compressdwarf=false", "-o", plain, "."],
		{
			cwd: `${root}test/binaries/corecrash`,
			env: {
				...process.env,
				GOTOOLCHAIN: "local",
				GOFLAGS: "-mod=mod",
				GOPROXY: "off",
				GOWORK: "off",
				GOCACHE: `${root}.cache/go-build`,
				CGO_ENABLED: "0",
			},
		},
	);
}, 900_000);

afterAll(() => {
	if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

function read(bytes: Uint8Array): Map<string, DwarfStruct> {
	const found = readDwarfStructs(parseImage(bytes), structs);
	expect(found).toBeDefined();
	expect([...(found?.keys() ?? [])].sort()).toEqual([...structs].sort());
	return found ?? new Map();
}

// What gdb prints for each struct's size and each member's offset, in the order of `fields`.
function gdbOffsets(path: string, fields: readonly [string, string | null][]): number[] {
	const args = ["-nx", "-batch", "-iex", "set auto-load no", "-ex", "set language c"];
	for (const [s, m] of fields) {
		args.push("-ex", m === null ? `print/d sizeof('${s}')` : `print/d (long)&(('${s}' *)0)->${m}`);
	}
	const out = execFileSync("gdb", [...args, path], { encoding: "utf8", maxBuffer: 1 << 24 });
	return [...out.matchAll(/^\$\d+ = (\d+)$/gm)].map((m) => Number(m[1]));
}

// The member names gdb's ptype lists for each struct, in order, blank fields left out.
function gdbMembers(path: string): string[][] {
	const args = ["-nx", "-batch", "-iex", "set auto-load no", "-ex", "set language c"];
	for (const s of structs) args.push("-ex", `ptype '${s}'`);
	const out = execFileSync("gdb", [...args, path], { encoding: "utf8", maxBuffer: 1 << 24 });
	return out
		.split(/^type = /m)
		.slice(1)
		.map((t) =>
			[...t.matchAll(/^ {4}\S.*?(\w+)(?:\[\d+\])*;$/gm)]
				.map((m) => m[1] as string)
				.filter((m) => m !== "_"),
		);
}

function expectSameAsGdb(path: string, found: ReadonlyMap<string, DwarfStruct>): void {
	const names = gdbMembers(path);
	expect(names[0]).toContain("goid");
	expect(
		structs.map((s) => [...(found.get(s)?.members.keys() ?? [])].filter((m) => m !== "_")),
	).toEqual(names);
	const fields: [string, string | null][] = [];
	const ours: (number | undefined)[] = [];
	for (const s of structs) {
		const st = found.get(s);
		fields.push([s, null]);
		ours.push(st?.size);
		// Blank fields (`_`) are several per struct: gdb finds only the first.
		for (const [m, at] of st?.members ?? []) {
			if (m === "_") continue;
			fields.push([s, m]);
			ours.push(at);
		}
	}
	expect(fields.length).toBeGreaterThan(100);
	expect(gdbOffsets(path, fields)).toEqual(ours);
}

const fixtures = binaryFixtures().filter(
	(f) => f.program === "frames" && f.variant === "" && !noGdb(f),
);

function noGdb(f: BinaryFixture): boolean {
	return f.goos === "darwin" || (f.goos === "windows" && f.goarch === "arm64");
}

describe.each(fixtures)("$name", (fx) => {
	test("every member of g, stack, gobuf and m is where gdb says", () => {
		const path = `${dir}/${fx.name}`;
		writeFileSync(path, fixtureBytes(fx.name));
		expectSameAsGdb(path, read(fixtureBytes(fx.name)));
	}, 60_000);
});

test("plain (uncompressed) DWARF sections: every member is where gdb says", () => {
	const bytes = new Uint8Array(readFileSync(plain));
	const image = parseImage(bytes);
	expect(image.sections.find((s) => s.name === ".debug_info")?.compressed).toBeUndefined();
	expectSameAsGdb(plain, read(bytes));
}, 60_000);

test.each(binaryFixtures().filter((f) => noGdb(f) && f.goarch === "arm64"))(
	"$name: its __zdebug (.zdebug) sections give linux/arm64's runtime.g and gobuf",
	(fx) => {
		const linux = read(fixtureBytes(`frames-go${fx.toolchain}-linux-arm64`));
		const darwin = read(fixtureBytes(fx.name));
		expect(darwin.get("runtime.g")).toEqual(linux.get("runtime.g"));
		expect(darwin.get("runtime.gobuf")).toEqual(linux.get("runtime.gobuf"));
	},
);

test.each(binaryFixtures().filter((f) => f.variant === "stripped"))(
	"$name (-ldflags='-s -w'): no DWARF",
	(fx) => {
		expect(readDwarfStructs(parseImage(fixtureBytes(fx.name)), structs)).toBeUndefined();
	},
);
