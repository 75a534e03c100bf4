// What the words of a core point at (`gocrash core --goroutine N`, and the signalled thread's
// registers), on real cores of test/binaries/corecrash: the values are gdb's reading of the same
// core, and the functions gdb's `info symbol` names at the same addresses.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runGocrash } from "./_cli.js";
import type { CoreJson } from "./_core-json.js";

const root = new URL("../../", import.meta.url).pathname;

type Target =
	| { kind: "code"; function: string; offset: string; file: string; line: number }
	| { kind: "stack"; goroutine: number; offset: string; frame?: string }
	| { kind: "g"; goroutine: number };

interface ValuesJson extends CoreJson {
	registerValues: { name: string; value: string; target: Target }[];
	stackWords: {
		goroutine: number;
		sp: string;
		words: { address: string; value: string; frameSP: string | null; target: Target | null }[];
	} | null;
}

// This file's own directory: other test files delete the cores they make in .cache/corecrash.
const out = mkdtempSync(join(tmpdir(), "gocrash-core-values-"));
let bin = "";
beforeAll(async () => {
	const { stdout } = await promisify(execFile)(`${root}scripts/run-corecrash.sh`, ["1.26"], {
		encoding: "utf8",
		env: { ...process.env, CORECRASH_OUT: out },
	});
	bin = stdout.trim();
}, 900_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function values(core: string, ...args: string[]): Promise<ValuesJson> {
	const r = await runGocrash(["core", "--json", bin, core, ...args], { cwd: root });
	expect(r.stderr).toBe("");
	expect(r.code).toBe(0);
	return JSON.parse(r.stdout) as ValuesJson;
}

// gdb's `info symbol` of each address: `main.deref + 20 in section .text` → [function, offset].
function gdbSymbols(addresses: readonly string[]): [string, number][] {
	const args = ["-batch", "-nx", ...addresses.flatMap((a) => ["-ex", `info symbol ${a}`]), bin];
	return execFileSync("gdb", args, { encoding: "utf8" })
		.trim()
		.split("\n")
		.map((line) => {
			const m = /^(\S+)(?: \+ (\d+))? in section \.text$/.exec(line);
			expect(m, line).not.toBeNull();
			// The ELF symbol table names assembly functions with their ABI (`runtime.raise.abi0`); the
			// traceback, and gocrash, without it.
			return [(m?.[1] ?? "").replace(/\.abi0$/, ""), Number(m?.[2] ?? 0)];
		});
}

// gdb's reading of `count` words at `address` of the core.
function gdbWords(core: string, address: string, count: number): string[] {
	const text = execFileSync("gdb", ["-batch", "-nx", "-ex", `x/${count}gx ${address}`, bin, core], {
		encoding: "utf8",
	});
	return [...text.matchAll(/\t(0x[0-9a-f]{16})/g)].map(
		(m) => `0x${BigInt(m[1] ?? "").toString(16)}`,
	);
}

describe.each(["crash", "gcore"])("go1.26 linux/amd64 %s core", (kind) => {
	const core = () => `${bin}.${kind}.core`;

	test("the signalled thread's code pointers are the functions gdb names there", async () => {
		const got = await values(core());
		const signalled = got.threads.find((t) => t.tid === got.signal?.thread);
		const code = got.registerValues.filter((v) => v.target.kind === "code");
		// rip always points at code: the thread was stopped in it.
		expect(code.find((v) => v.name === "rip")?.value).toBe(signalled?.pc);
		const symbols = gdbSymbols(code.map((v) => v.value));
		for (const [i, v] of code.entries()) {
			const t = v.target as Extract<Target, { kind: "code" }>;
			expect([t.function, Number(t.offset)], v.name).toEqual(symbols[i]);
		}
	}, 120_000);

	test("--goroutine: the words are gdb's, each frame's SP is marked, return addresses are named", async () => {
		// Goroutine 1 (main.main: running in the crash core, parked in the gcore one), and one
		// of the program's parked goroutines, whose stack was unwound from g.sched.
		const all = await values(core());
		const parked = all.goroutines.find(
			(g) =>
				g.id !== 1 &&
				g.status === "waiting" &&
				g.frames.some((f) => f.function.startsWith("main.")),
		);
		expect(parked).toBeDefined();
		for (const id of [1, parked?.id ?? 0]) {
			const got = await values(core(), "--goroutine", String(id), "--words", "48");
			const words = got.stackWords?.words ?? [];
			// 48 words, or fewer where the stack ends (g.stack.hi).
			expect(words.length).toBeGreaterThan(8);
			expect(words.length).toBeLessThanOrEqual(48);
			expect(words.map((w) => w.value)).toEqual(
				gdbWords(core(), words[0]?.address ?? "", words.length),
			);
			const g = got.goroutines.find((x) => x.id === id);
			expect(got.stackWords?.sp).toBe(g?.frames[0]?.sp);
			const shown = new Set(words.map((w) => w.address));
			// Inlined calls share their function's frame (and SP); it comes last of them.
			const frames = (g?.frames ?? []).filter((f, i, all) => all[i + 1]?.sp !== f.sp);
			for (const [i, f] of frames.entries()) {
				if (!shown.has(f.sp)) continue;
				expect(words.find((w) => w.address === f.sp)?.frameSP).toBe(f.function);
				// amd64: the return address into the caller is the word just below the caller's SP.
				const caller = frames[i + 1];
				const slot =
					caller === undefined ? undefined : `0x${(BigInt(caller.sp) - 8n).toString(16)}`;
				const word = words.find((w) => w.address === slot);
				if (caller === undefined || word === undefined) continue;
				expect(word.value).toBe(caller.pc);
				expect(word.target).toMatchObject({ kind: "code", line: caller.line });
			}
			const inOwnStack = words.filter(
				(w) => w.target?.kind === "stack" && w.target.goroutine === id,
			);
			expect(inOwnStack.length).toBeGreaterThan(0);
		}
	}, 120_000);
});

test("--goroutine of a goroutine the core does not have: one line, exit status 1", async () => {
	const r = await runGocrash(["core", bin, `${bin}.gcore.core`, "--goroutine", "987654"], {
		cwd: root,
	});
	expect(r.code).toBe(1);
	expect(r.stderr).toMatch(/^gocrash core: .*gcore\.core: The core has no goroutine 987654\n$/);
	const words = await runGocrash(["core", bin, `${bin}.gcore.core`, "--words", "8"], { cwd: root });
	expect(words.code).toBe(2);
	expect(words.stderr).toContain("--words counts the words of --goroutine N");
}, 60_000);
