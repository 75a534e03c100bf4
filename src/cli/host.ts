import { readFile } from "node:fs/promises";
import { arch as osArch, release } from "node:os";
import { parseArgs } from "node:util";
import { assessKernel, type KernelAssessment } from "./_host-kernel.js";
import { runSelfTest, type SelfTestResult } from "./_host-selftest.js";
import type { Command } from "./_io.js";
import { UsageError } from "./_io.js";

const usage = `usage: gocrash host [--self-test] [--seconds N] [--json]

Reports what this machine means for known Go crash causes: the kernel's status for the Linux
5.2–5.4.1 AVX signal-corruption bug (golang/go#35777), and the limits Go programs run into.

  --self-test   compile (with the local C compiler, $CC or cc) and run a test that signals a
                thread holding known values in the AVX registers, each time on a freshly mapped
                signal stack, and checks the registers afterwards
  --seconds N   how long the self-test signals (default 5)
  --json        print one JSON document
`;

async function readText(path: string): Promise<string | null> {
	try {
		return await readFile(path, "utf8");
	} catch {
		return null;
	}
}

function limit(limits: string | null, name: string): string | null {
	const line = limits?.split("\n").find((l) => l.startsWith(name));
	return line === undefined ? null : (line.slice(26).trim().split(/\s+/)[0] ?? null);
}

/** `gocrash host`: this machine's kernel status and limits, and an AVX signal self-test. */
export const hostCommand: Command = {
	name: "host",
	summary:
		"this machine's kernel and limits against known Go crash causes; --self-test for the AVX kernel bug",
	usage,
	async run(args, io) {
		const { values } = parseArgs({
			args: [...args],
			options: {
				"self-test": { type: "boolean", default: false },
				seconds: { type: "string", default: "5" },
				json: { type: "boolean", default: false },
			},
		});
		const seconds = Number(values.seconds);
		if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600)
			throw new UsageError("--seconds must be a number of seconds between 0 and 600");
		const procVersion = (await readText("/proc/version")) ?? "";
		const kernel: KernelAssessment = assessKernel(release(), procVersion, osArch());
		const limits = await readText("/proc/self/limits");
		const facts = {
			arch: osArch(),
			kernel: release(),
			mlockLimit: limit(limits, "Max locked memory"),
			processLimit: limit(limits, "Max processes"),
			openFilesLimit: limit(limits, "Max open files"),
			addressSpaceLimit: limit(limits, "Max address space"),
		};
		const selfTest: SelfTestResult | null = values["self-test"]
			? await runSelfTest(osArch(), io.env, seconds)
			: null;
		if (values.json) {
			io.stdout.write(`${JSON.stringify({ ...facts, avxSignalBug: kernel, selfTest }, null, 2)}\n`);
		} else {
			const lines = [
				`kernel ${facts.kernel} (${facts.arch})${kernel.gccMajor === null ? "" : `, built with GCC ${kernel.gccMajor}`}`,
				`linux-kernel-avx-signal-corruption: ${kernel.status}`,
				...kernel.reasons.map((r) => `  - ${r}`),
				`limits: locked memory ${facts.mlockLimit ?? "?"}, processes ${facts.processLimit ?? "?"}, open files ${facts.openFilesLimit ?? "?"}, address space ${facts.addressSpaceLimit ?? "?"}`,
			];
			if (selfTest !== null) lines.push(formatSelfTest(selfTest, seconds));
			io.stdout.write(`${lines.join("\n")}\n`);
		}
		if (selfTest?.ran === true && selfTest.corrupted > 0) return 3;
		return 0;
	},
};

function formatSelfTest(r: SelfTestResult, seconds: number): string {
	if (!r.ran) return `self-test: could not run: ${r.reason}`;
	const what = `${r.delivered} signals delivered on fresh signal stacks over ${seconds}s, ${r.rounds} register checks (compiled with ${r.compiler})`;
	return r.corrupted > 0
		? `self-test: FAILED: AVX registers corrupted in ${r.corrupted} of ${r.rounds} checks (${what}): this kernel has the signal-delivery register corruption bug`
		: `self-test: passed: no AVX register corruption (${what})`;
}
