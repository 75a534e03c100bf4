// Real linux/arm64 core files of test/binaries/corecrash, made by scripts/run-corecrash.sh under
// qemu-aarch64 (GOTRACEBACK=crash, GOGC=off, nil pointer crash): QEMU writes the emulated
// process's core itself, without NT_FILE or NT_SIGINFO notes. The runtime's text and the core
// describe the same moment, so every goroutine `gocrash core` reads must be the one
// `gocrash parse` reads from the text: same id, state, and frames (function, file, line, pc, sp).
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { printedGoroutines, printedState, readCoreJson } from "./_core-json.js";

const execFileAsync = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
const versions = ["1.19", "1.21", "1.22", "1.23", "1.24", "1.25", "1.26"];
const binaries: Record<string, string> = {};

beforeAll(async () => {
	for (const v of versions) {
		binaries[v] = (
			await execFileAsync(`${root}scripts/run-corecrash.sh`, [v, "arm64"], { encoding: "utf8" })
		).stdout.trim();
	}
}, 900_000);

afterAll(() => {
	for (const bin of Object.values(binaries)) rmSync(`${bin}.crash.core`, { force: true });
});

describe.each(versions)("go%s linux/arm64 under qemu-aarch64", (v) => {
	test("QEMU's core of a GOTRACEBACK=crash abort: every goroutine equals the printed one", async () => {
		const bin = binaries[v] as string;
		const want = printedGoroutines(readFileSync(`${bin}.crash.txt`, "utf8"));
		const got = await readCoreJson(bin, `${bin}.crash.core`);
		expect(got.goVersion).toMatch(new RegExp(`^go${v.replace(".", "\\.")}`));
		expect(got.goarch).toBe("arm64");
		// No NT_SIGINFO: the signal is the dumping thread's pr_cursig, without a code.
		expect(got.signal).toEqual({
			name: "SIGABRT",
			code: 0,
			addr: null,
			thread: got.threads[0]?.tid,
		});
		expect(got.goroutines.map((g) => g.id).sort((a, b) => a - b)).toEqual(
			[...want.keys()].sort((a, b) => a - b),
		);
		const states = new Set(got.goroutines.map(printedState));
		for (const s of [
			"running",
			"chan receive",
			"chan send",
			"select",
			"sleep",
			"syscall",
			v === "1.19" ? "semacquire" : "sync.Mutex.Lock", // Go 1.19's name of a Mutex wait
		]) {
			expect(states).toContain(s);
		}
		for (const g of got.goroutines) {
			const w = want.get(g.id);
			expect(w, `goroutine ${g.id}`).toBeDefined();
			if (w === undefined) continue;
			expect(printedState(g), `goroutine ${g.id}`).toBe(w.state);
			expect(g.status.endsWith(" (scan)")).toBe(w.scan);
			if (w.running) {
				// The text starts at the panic; the core also has the abort below it, from the
				// signal context that runtime.sigtramp was given.
				expect(g.frames.slice(g.frames.length - w.frames.length)).toEqual(w.frames);
				expect(g.frames[0]?.function).toBe("runtime.raise");
				expect(g.frames.some((f) => f.function === "main.deref")).toBe(true);
			} else {
				expect(g.frames, `goroutine ${g.id}`).toEqual(w.frames);
			}
		}
	}, 60_000);
});
