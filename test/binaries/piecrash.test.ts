// Real crashes of test/binaries/piecrash, built and run with GOTRACEBACK=system by
// scripts/run-piecrash.sh: a PIE on linux/amd64 (run natively, so the kernel loads it at a random
// base) and linux/arm64 (under qemu-aarch64), and a linux/arm binary whose text Go's linker split
// into two sections that lld then moved apart (under qemu-arm). Every frame's pc= goes through
// `gocrash symbolize`, with the load base worked out from main.main's frame, and must come back as
// the function, file:line and inlined calls the crash printed for it.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

import { readFileSync } from "node:fs";
import { beforeAll, expect, test } from "vitest";
import { parseGoBinary } from "../../src/binary/index.js";
import { parseCrashes } from "../../src/traceback/index.js";
import { gocrash } from "./_cli.js";

const root = new URL("../../", import.meta.url).pathname;

/** One frame the crash printed with its pc=, and the inlined calls printed above it. */
interface PrintedFrame {
	pc: string;
	offset: number;
	/** Stopped by a signal (the frame below sigpanic): its pc is not a return address. */
	signal: boolean;
	printed: { function: string; file: string | null; line: number | null };
	inlined: { function: string; file: string | null; line: number | null }[];
}

function printedFrames(text: string): PrintedFrame[] {
	const out: PrintedFrame[] = [];
	for (const crash of parseCrashes(text).crashes) {
		for (const g of crash.goroutines) {
			let inlined: PrintedFrame["inlined"] = [];
			let above = "";
			for (const f of g.frames) {
				const at = { function: f.function, file: f.file, line: f.line };
				if (f.inlined) {
					inlined.push(at);
					continue;
				}
				if (f.pc !== null) {
					out.push({
						pc: f.pc,
						offset: f.offset ?? 0,
						signal: above === "runtime.sigpanic" || above === "runtime.asyncPreempt",
						printed: at,
						inlined,
					});
				}
				inlined = [];
				above = f.function;
			}
		}
	}
	return out;
}

async function symbolize(bin: string, frame: string, pcs: string[], returns: boolean) {
	const args = ["symbolize", "--json", bin, ...pcs, "--frame", frame];
	const r = await gocrash(...(returns ? [...args, "--return-addresses"] : args));
	expect(r.stderr).toBe("");
	expect(r.code).toBe(0);
	return r.stdout
		.trim()
		.split("\n")
		.map((l) => JSON.parse(l));
}

const binaries: Record<string, string> = {};

// The first run fetches a Go toolchain, Debian's armhf libc and maybe clang, lld and qemu-user.
// Asynchronously: a worker blocked for a minute misses vitest's RPC deadline.
beforeAll(async () => {
	for (const arch of ["amd64", "arm64", "arm"]) {
		binaries[arch] = (
			await execFileAsync(`${root}scripts/run-piecrash.sh`, [arch], { encoding: "utf8" })
		).stdout.trim();
	}
}, 900_000);

test.each(["amd64", "arm64", "arm"])(
	"linux/%s crash: symbolize gives what the crash printed",
	async (arch) => {
		const bin = binaries[arch] as string;
		const text = readFileSync(`${bin}.crash.txt`, "utf8");
		expect(text).toContain(
			"panic: runtime error: invalid memory address or nil pointer dereference",
		);
		const frames = printedFrames(text);
		const main = frames.find((f) => f.printed.function === "main.main");
		expect(main).toBeDefined();
		if (main === undefined) return;
		const base = `main.main+0x${main.offset.toString(16)}@${main.pc}`;
		// Frames of the faulting goroutine, the runtime's and a blocked one; one inlined call of ours.
		expect(frames.length).toBeGreaterThan(10);
		expect(frames.filter((f) => f.signal).map((f) => f.printed.function)).toEqual(["main.deref"]);
		expect(frames.some((f) => f.inlined.some((i) => i.function === "main.viaInline"))).toBe(true);

		for (const signal of [true, false]) {
			const want = frames.filter((f) => f.signal === signal);
			const got = await symbolize(
				bin,
				base,
				want.map((f) => f.pc),
				!signal,
			);
			expect(got).toEqual(
				want.map((f) => ({
					pc: f.pc,
					...(got[0]?.linkPC === undefined ? {} : { linkPC: expect.any(String) }),
					function: f.printed.function,
					offset: `0x${f.offset.toString(16)}`,
					file: f.printed.file,
					line: f.printed.line,
					...(f.inlined.length === 0 ? {} : { inlined: f.inlined }),
				})),
			);
		}
		if (arch === "amd64") {
			// The kernel loaded the binary far from its link addresses (0x55… or 0x56… with ASLR).
			const [doc] = await symbolize(bin, base, [main.pc], true);
			const bias = Number.parseInt(doc.pc, 16) - Number.parseInt(doc.linkPC, 16);
			expect(bias).toBeGreaterThanOrEqual(0x550000000000);
			expect(bias % 0x1000).toBe(0);
		}
	},
);

test("linux/arm split text: function entries come from textsectmap, as the linker placed them", () => {
	const path = binaries.arm as string;
	const tab = parseGoBinary(new Uint8Array(readFileSync(path))).pclntab;
	const [first, second] = tab.textSections;
	expect(tab.textSections.length).toBe(2);
	// lld put other code between the sections: an entry is not text start + its offset.
	expect(second?.baseaddr).toBeGreaterThan((first?.baseaddr ?? 0) + (second?.vaddr ?? 0));
	// The symbol table the external linker wrote agrees on every function (asm ones as .abi0).
	const go = execFileSync(`${root}scripts/go-toolchain.sh`, ["1.24"], { encoding: "utf8" }).trim();
	const symbols = new Map<string, number>();
	for (const line of execFileSync(go, ["tool", "nm", path], { encoding: "utf8" }).split("\n")) {
		const m = /^\s*([0-9a-f]+) [Tt] (\S+)$/.exec(line);
		if (m !== null)
			symbols.set((m[2] as string).replace(/\.abi0$/, ""), Number.parseInt(m[1] as string, 16));
	}
	let checked = 0;
	let inSecond = 0;
	for (let i = 0; i < tab.nfunc; i++) {
		const { name, entry } = tab.func(i);
		const want = symbols.get(name);
		if (want === undefined) continue;
		expect({ name, entry }).toEqual({ name, entry: want });
		checked++;
		if (entry >= (second?.baseaddr ?? Number.POSITIVE_INFINITY)) inSecond++;
	}
	expect(checked).toBeGreaterThan(tab.nfunc * 0.9);
	expect(inSecond).toBeGreaterThan(100);
});
