// The split-SP victim check on real cores of the split-SP crash (golang/go#73259): the leaf
// reproducer (scripts/split-sp-reproducer) built with Debian's Go, run under qemu-aarch64 with
// one instruction per translation block and GOTRACEBACK=crash until the GC's unwinder crashes on a
// preempted goroutine, and QEMU's core of that moment (scripts/split-sp-core.sh). What the core
// says of the victim must be what the runtime printed about it, and its pc must be on a window
// that `gocrash scan` lists; and `gocrash diagnose --core` confirms the bug from the core, even
// from a text cut before the goroutines.
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { parseGoBinary } from "../../src/binary/index.js";
import { parseCrashes } from "../../src/traceback/index.js";
import { runGocrash } from "./_cli.js";
import { CORE_VERSIONS, coresForEachVersion } from "./_core-json.js";

const execFileAsync = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;
const binaries = coresForEachVersion("split-sp-core.sh");

interface Preempted {
	goroutine: number;
	pc: string;
	function: string;
	sp: string;
	lr: string;
	splitSP: {
		window: { pc: string; deltas: number[]; leaf: boolean };
		spOffBy: number;
		returnAddress: string;
		unwinderCallerSP: string;
		realCallerSP: string;
	} | null;
	text: string;
}

async function json(args: string[]): Promise<unknown> {
	const r = await runGocrash(args, { cwd: root });
	expect(r.stderr).toBe("");
	expect(r.code).toBe(0);
	return JSON.parse(r.stdout);
}

describe.each(CORE_VERSIONS)("go%s leaf reproducer under qemu-aarch64", (v) => {
	test("the victim is found on a split window, as the runtime printed it", async () => {
		const bin = binaries[v] as string;
		const text = readFileSync(`${bin}.crash.txt`, "utf8");
		const crashes = parseCrashes(text).crashes;
		const crash = crashes[0];
		expect(crash?.fatal ?? crash?.signal?.name).toMatch(
			/traceback did not unwind completely|unknown caller pc|SIGSEGV/,
		);
		// A crash while printing the first (Go 1.19's "panic during panic") is a second report.
		const goroutines = crashes.flatMap((c) => c.goroutines);
		const core = (await json(["core", "--json", bin, `${bin}.crash.core`])) as {
			preempted: Preempted[];
		};
		const scan = (await json(["scan", "--json", bin])) as {
			splitSP: { function: string; pc: string; preemptible: boolean }[];
		};
		const windows = scan.splitSP.filter((w) => w.preemptible).map((w) => w.pc);
		const victims = core.preempted.filter((p) => p.splitSP !== null);
		expect(victims.length).toBeGreaterThan(0);
		// Every goroutine the dump shows in runtime.asyncPreempt is checked, and those it could not
		// show: Go 1.19's traceback of the victim crashes ("panic during panic") before its frames.
		const printed = goroutines.filter((g) =>
			g.frames.some((f) => f.function === "runtime.asyncPreempt"),
		);
		const checked = core.preempted.map((p) => p.goroutine);
		for (const g of printed) expect(checked).toContain(g.id);
		// The runtime names the goroutine its unwinder failed on in the victim's frame: a victim.
		const named = unwound(crash?.runtimeLines ?? []);
		if (named !== null) expect(victims.map((p) => p.goroutine)).toContain(named);
		for (const p of victims) {
			expect(p.function).toBe("main.big_stack");
			expect(windows).toContain(p.pc);
			expect(p.splitSP?.window.pc).toBe(p.pc);
			expect(p.splitSP?.spOffBy).toBe(p.splitSP?.window.deltas[0]);
			expect(p.text).toMatch(
				new RegExp(
					`^goroutine ${p.goroutine} was preempted at ${p.pc} in main\\.big_stack\\+0x[0-9a-f]+ .*between the two ADDs of its epilogue`,
				),
			);
			// The runtime printed the victim's frame as its unwinder saw it: pc and sp where the
			// signal stopped it, fp where pcsp puts the caller (the wrong place).
			const frame = goroutines
				.filter((x) => x.id === p.goroutine)
				.flatMap((x) => x.frames)
				.find((f) => f.function === "main.big_stack" && f.pc !== null);
			// Go 1.19's traceback of a victim crashes before its frames; and the goroutine the
			// unwinder failed on may be printed with stale frames alone (seen in go1.19 and go1.26
			// crashes), since its SP is off.
			if (frame === undefined) {
				if (v !== "1.19") expect(p.goroutine).toBe(named);
				continue;
			}
			expect(frame.pc).toBe(p.pc);
			expect(frame.sp).toBe(p.sp);
			expect(frame.fp).toBe(p.splitSP?.unwinderCallerSP);
		}
	}, 120_000);
});

/** The goroutine the runtime says its unwinder failed on, from its `runtime: gN:` line. */
function unwound(runtimeLines: readonly string[]): number | null {
	for (const l of runtimeLines) {
		const m = /^runtime: g ?(\d+): (?:frame\.sp=|unexpected return pc for main\.big_stack )/.exec(
			l,
		);
		if (m !== null) return Number(m[1]);
	}
	return null;
}

interface Diagnosis {
	findings: { id: string; confidence: string; evidence: string[] }[];
	core: { name: string; preempted: { goroutine: number; onSplitWindow: boolean }[] } | null;
}

describe.each(CORE_VERSIONS)("go%s: gocrash diagnose --core", (v) => {
	const split = "go-arm64-split-sp-epilogue";
	test("the crash text with its core: confirmed by the core's victim", async () => {
		const bin = binaries[v] as string;
		const d = (await json([
			"diagnose",
			`${bin}.crash.txt`,
			"--binary",
			bin,
			"--core",
			`${bin}.crash.core`,
			"--json",
		])) as Diagnosis;
		expect(d.findings[0]?.id).toBe(split);
		expect(d.findings[0]?.confidence).toBe("confirmed");
		const onWindow = d.core?.preempted.filter((p) => p.onSplitWindow) ?? [];
		expect(onWindow.length).toBeGreaterThan(0);
		expect(d.findings[0]?.evidence).toContainEqual(
			expect.stringMatching(
				/\.crash\.core: goroutine \d+ was preempted at .* between the two ADDs/,
			),
		);
	}, 60_000);

	test("a text without the preempted goroutines: possible without the core, confirmed with it", async () => {
		const bin = binaries[v] as string;
		const text = readFileSync(`${bin}.crash.txt`, "utf8");
		const cut = `${bin}.cut.txt`;
		// As if the dump had stopped short of them (GOTRACEBACK=single, a truncated log). A victim
		// whose own traceback failed may print no asyncPreempt frame, only stale frames (and the
		// runtime's `unexpected return pc` line), as go1.19 and go1.26 crashes did: its stanza
		// goes too, and so does that of the goroutine the unwinder failed on.
		const blocks = text.split(/^(?=goroutine \d+ )/m);
		const named = unwound(parseCrashes(text).crashes[0]?.runtimeLines ?? []);
		const preempted = (b: string) =>
			b.includes("runtime.asyncPreempt") ||
			(b.startsWith("goroutine ") && b.includes("unexpected return pc")) ||
			b.startsWith(`goroutine ${named} `);
		writeFileSync(cut, blocks.filter((b) => !preempted(b)).join(""));
		try {
			const alone = (await json(["diagnose", cut, "--binary", bin, "--json"])) as Diagnosis;
			const without = alone.findings.find((f) => f.id === split);
			expect(without?.confidence).toBe("possible");
			const d = (await json([
				"diagnose",
				cut,
				"--binary",
				bin,
				"--core",
				`${bin}.crash.core`,
				"--json",
			])) as Diagnosis;
			expect(d.findings[0]?.id).toBe(split);
			expect(d.findings[0]?.confidence).toBe("confirmed");
			expect(d.findings[0]?.evidence).toContainEqual(
				expect.stringMatching(/between the two ADDs .*\(the crash text does not show it\)$/),
			);
		} finally {
			rmSync(cut, { force: true });
		}
	}, 60_000);
});

describe("bad input", () => {
	test("--core without --binary is a usage error", async () => {
		const bin = binaries["1.26"] as string;
		const r = await runGocrash(["diagnose", `${bin}.crash.txt`, "--core", `${bin}.crash.core`], {
			cwd: root,
		});
		expect(r.code).toBe(2);
		expect(r.stderr).toMatch(/--core needs --binary/);
	});

	test("the core of another run of the same binary is left out of the evidence", async () => {
		const bin = binaries["1.26"] as string;
		const earlier = `${bin}.earlier.txt`;
		writeFileSync(earlier, readFileSync(`${bin}.crash.txt`));
		try {
			await execFileAsync(`${root}scripts/split-sp-core.sh`, ["1.26"], { encoding: "utf8" });
			const d = (await json([
				"diagnose",
				earlier,
				"--binary",
				bin,
				"--core",
				`${bin}.crash.core`,
				"--json",
			])) as Diagnosis;
			const evidence = d.findings.find((f) => f.id === "go-arm64-split-sp-epilogue")?.evidence;
			expect(evidence).toContainEqual(
				expect.stringMatching(/\.crash\.core is not a core of this crash: \d+ goroutine/),
			);
			expect(evidence?.some((e) => e.includes(".crash.core: goroutine"))).toBe(false);
		} finally {
			rmSync(earlier, { force: true });
		}
	}, 120_000);

	test("another build's core, or a binary changed in its read-only data, is refused in one line", async () => {
		const core = `${binaries["1.26"]}.crash.core`;
		const other = await runGocrash(["core", binaries["1.24"] as string, core], { cwd: root });
		expect(other.code).toBe(1);
		expect(other.stderr.trim().split("\n")).toHaveLength(1);
		expect(other.stderr).toMatch(/not the binary that made this core/);
		// One byte of the read-only segment changed: the entry point still agrees, the bytes QEMU
		// dumped do not.
		const bytes = readFileSync(binaries["1.26"] as string);
		const segment = parseGoBinary(bytes).image.segments.find((s) => !s.write && !s.exec);
		const rodata = (segment?.offset ?? 0) + 0x40;
		bytes[rodata] = (bytes[rodata] ?? 0) ^ 0xff;
		const changed = `${binaries["1.26"]}.changed`;
		writeFileSync(changed, bytes);
		try {
			const r = await runGocrash(["core", changed, core], { cwd: root });
			expect(r.code).toBe(1);
			expect(r.stderr.trim().split("\n")).toHaveLength(1);
			expect(r.stderr).toContain(
				`differs from the binary at byte 0x${rodata.toString(16)}: not the binary`,
			);
		} finally {
			rmSync(changed, { force: true });
		}
	});
});
