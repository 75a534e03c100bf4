// Real core files of test/binaries/corecrash, made by scripts/run-corecrash.sh (linux/amd64,
// GOTRACEBACK=crash, GOGC=off): the kernel's core of a nil pointer crash, and gdb's gcore of the
// idle program followed by its SIGQUIT dump. The runtime's text and the core describe the same
// moment, so every goroutine `gocrash core` reads must be the one `gocrash parse` reads from the
// text: same id, state, and frames (function, file, line, pc, sp).
import { openSync, readFileSync, readSync, statSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parseGoBinary } from "../../src/binary/index.js";
import { CoreError, readCore } from "../../src/core/index.js";
import { runGocrash } from "./_cli.js";
import {
	CORE_VERSIONS,
	readCoreJson as core,
	coresForEachVersion,
	expectPrintedGoroutines,
	expectTableEqualsDwarf,
	printedGoroutines as printed,
	printedState as state,
} from "./_core-json.js";

const root = new URL("../../", import.meta.url).pathname;
const binaries = coresForEachVersion("run-corecrash.sh");

describe.each(CORE_VERSIONS)("go%s linux/amd64", (v) => {
	test("kernel core of a GOTRACEBACK=crash abort: every goroutine equals the printed one", async () => {
		const bin = binaries[v] as string;
		const text = readFileSync(`${bin}.crash.txt`, "utf8");
		const want = printed(text);
		const got = await core(bin, `${bin}.crash.core`);
		expect(got.goVersion).toMatch(new RegExp(`^go${v.replace(".", "\\.")}`));
		expect(got.goarch).toBe("amd64");
		expect(got.layout).toBe("dwarf");
		expect(got.signal).toEqual({
			name: "SIGABRT",
			code: -6,
			addr: null,
			thread: got.threads[0]?.tid,
		});
		expectPrintedGoroutines(got, want, v);
	}, 60_000);
});

test("gcore of a live process: every goroutine equals its SIGQUIT dump right after", async () => {
	const bin = binaries["1.24"] as string;
	const want = printed(readFileSync(`${bin}.gcore.txt`, "utf8"));
	const got = await core(bin, `${bin}.gcore.core`);
	expect(got.goroutines.length).toBe(want.size);
	expect(got.goroutines.length).toBeGreaterThan(10);
	for (const g of got.goroutines) {
		const w = want.get(g.id);
		expect(w, `goroutine ${g.id}`).toBeDefined();
		expect(state(g)).toBe(w?.state);
		expect(g.frames).toEqual(w?.frames);
	}
	// gdb writes every mapping, text included: a 1 GB core is read without being loaded.
	expect(statSync(`${bin}.gcore.core`).size).toBeGreaterThan(256 << 20);
}, 60_000);

// The DWARF reader itself is checked against gdb by dwarf.test.ts.
test.each(CORE_VERSIONS)("go%s: the runtime layout table equals the binary's DWARF", (v) => {
	expectTableEqualsDwarf(binaries[v] as string, v);
});

describe("damaged cores", () => {
	const bin = () => binaries["1.24"] as string;
	const original = () => {
		const path = `${bin()}.crash.core`;
		const fd = openSync(path, "r");
		// The headers, notes and the first segments: enough for every reader to get going.
		const bytes = new Uint8Array(Math.min(statSync(path).size, 4 << 20));
		readSync(fd, bytes, 0, bytes.length, 0);
		return { bytes, size: statSync(path).size, fd };
	};
	// A source over the real core with `edit` applied to what is read.
	function outcome(edit: (into: Uint8Array, offset: number) => void, size: number, fd: number) {
		const goBinary = parseGoBinary(readFileSync(bin()));
		try {
			readCore(goBinary, {
				size,
				read(into, offset) {
					readSync(fd, into, 0, into.length, offset);
					edit(into, offset);
				},
			});
			return "ok";
		} catch (error) {
			if (error instanceof CoreError) return error.code;
			if (error instanceof Error && error.name === "BinaryError") return "binary";
			throw error;
		}
	}

	test("truncated anywhere: a documented error, never a crash", () => {
		const { size, fd } = original();
		fc.assert(
			fc.property(fc.integer({ min: 0, max: size - 1 }), (length) => {
				const r = outcome(() => {}, length, fd);
				expect(["ok", "truncated", "malformed", "unmapped", "bad-magic", "binary"]).toContain(r);
			}),
			{ numRuns: 60 },
		);
		expect(outcome(() => {}, 10, fd)).toBe("truncated");
	});

	test("mutated headers and notes: a documented error or a result, never a crash", () => {
		const { bytes, size, fd } = original();
		const noteEnd = Math.min(bytes.length, 64 << 10);
		fc.assert(
			fc.property(
				fc.array(
					fc.tuple(fc.integer({ min: 0, max: noteEnd - 1 }), fc.integer({ min: 0, max: 255 })),
					{
						minLength: 1,
						maxLength: 8,
					},
				),
				(edits) => {
					const r = outcome(
						(into, offset) => {
							for (const [at, value] of edits) {
								if (at >= offset && at < offset + into.length) into[at - offset] = value;
							}
						},
						size,
						fd,
					);
					expect(typeof r).toBe("string");
				},
			),
			{ numRuns: 150 },
		);
	});

	test("the wrong binary is refused in one line", async () => {
		const other = binaries["1.26"] as string;
		const r = await runGocrash(["core", other, `${bin()}.crash.core`], { cwd: root });
		expect(r.code).toBe(1);
		expect(r.stderr.trim().split("\n")).toHaveLength(1);
		expect(r.stderr).toMatch(/^gocrash core: .*crash\.core: /);
	});
});
