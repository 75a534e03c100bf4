import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseGoBinary } from "../binary/index.js";
import { collectNotes, type Diagnosis, diagnose, formatBinaryMismatch } from "../diagnose/index.js";
import { parseCrashes } from "../traceback/index.js";
import type { Command, Io } from "./_io.js";
import { InputError, parseCommandArgs, UsageError } from "./_io.js";
import { SPLIT_SP_SOURCES } from "./_reproduce-source.js";
import { builtinRulesDir, loadRules } from "./diagnose.js";

const exec = promisify(execFile);

/** The rule whose confirmed finding is what the reproducer is run for. */
const SPLIT_SP_RULE = "go-arm64-split-sp-epilogue";

const usage = `usage: gocrash reproduce split-sp [--go VERSION|PATH] [--variant leaf|non-leaf]
                                  [--duration SECONDS] [--copies N] [--workers N] [--keep DIR]

Builds a minimal reproducer of the arm64 split-SP epilogue bug (golang/go#73259) for linux/arm64
and runs it under qemu-aarch64 with one instruction per translation block, so that preemption
signals can land between any two instructions. Reports whether it crashed, diagnoses the crash
with gocrash itself, and confirms the preempted goroutine's PC on the binary's split window; a
crash that is not confirmed (its text does not show the victim there) is run again while time
is left.

  --go VERSION|PATH  a go command, or a Debian toolchain version (1.19 ... 1.26) fetched with
                     scripts/go-toolchain.sh from a gocrash checkout (default: 1.26, else 'go')
  --variant          leaf (default): the big-frame function calls nothing (split in every Go
                     release checked); non-leaf: it calls a helper (fixed in go1.23.12, go1.24.6,
                     go1.25.0, so it must not crash with those)
  --duration S       seconds each copy may run (default 300)
  --copies N         processes run in parallel (default 1)
  --workers N        goroutines calling the function in each process (default 8)
  --keep DIR         keep the binary and every copy's output in DIR

Needs qemu-aarch64 (Debian: apt-get install qemu-user). Exit status: 3 crashed (reproduced),
0 no crash within the duration, 1 could not build or run.
`;

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

async function findGo(arg: string | undefined, cwd: string): Promise<string> {
	if (arg !== undefined && /[/\\]/.test(arg)) {
		const path = resolve(cwd, arg);
		if (!existsSync(path)) throw new InputError(`${arg}: no such go command`);
		return path;
	}
	const version = arg ?? "1.26";
	const script = join(repoRoot, "scripts", "go-toolchain.sh");
	if (existsSync(script)) {
		const { stdout } = await exec(script, [version], { timeout: 600_000 });
		return stdout.trim();
	}
	if (arg === undefined) return "go";
	throw new InputError(
		`cannot fetch Go ${version} outside a gocrash checkout: give --go PATH to a go command`,
	);
}

async function qemuStepFlag(): Promise<string> {
	let help: string;
	try {
		const r = await exec("qemu-aarch64", ["-h"]);
		help = r.stdout;
	} catch (error) {
		const e = error as NodeJS.ErrnoException & { stdout?: string };
		if (e.code === "ENOENT")
			throw new InputError("qemu-aarch64 not found (Debian: apt-get install qemu-user)");
		help = e.stdout ?? "";
	}
	// QEMU 8.1 renamed -singlestep (Debian bookworm ships 7.2) to -one-insn-per-tb.
	return help.includes("-one-insn-per-tb") ? "-one-insn-per-tb" : "-singlestep";
}

interface CopyResult {
	crashed: boolean;
	seconds: number;
	output: string;
}

function runCopy(qemu: string[], env: NodeJS.ProcessEnv, seconds: number): Promise<CopyResult> {
	return new Promise((done, fail) => {
		const start = Date.now();
		const child = spawn("qemu-aarch64", qemu, { env, stdio: ["ignore", "pipe", "pipe"] });
		const chunks: Buffer[] = [];
		let size = 0;
		const keep = (b: Buffer): void => {
			// A crash dump is small; cap what a misbehaving run can make us hold.
			if (size < 16 * 1024 * 1024) chunks.push(b);
			size += b.length;
		};
		child.stdout.on("data", keep);
		child.stderr.on("data", keep);
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			child.kill("SIGKILL");
		}, seconds * 1000);
		child.on("error", (error) => {
			clearTimeout(timer);
			fail(error);
		});
		child.on("close", () => {
			clearTimeout(timer);
			const output = Buffer.concat(chunks).toString("utf8");
			done({
				crashed: !timedOut && /^goroutine \d+/m.test(output),
				seconds: (Date.now() - start) / 1000,
				output,
			});
		});
	});
}

function confirmsSplitSP(d: Diagnosis): boolean {
	const top = d.findings[0];
	return top?.id === SPLIT_SP_RULE && top.confidence === "confirmed";
}

/** `gocrash reproduce split-sp`: build and run the split-SP reproducer under qemu-user. */
export const reproduceCommand: Command = {
	name: "reproduce",
	summary:
		"reproduce the arm64 split-SP crash (golang/go#73259) under qemu-aarch64 and diagnose it",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			go: { type: "string" },
			variant: { type: "string", default: "leaf" },
			duration: { type: "string", default: "300" },
			copies: { type: "string", default: "1" },
			workers: { type: "string", default: "8" },
			keep: { type: "string" },
		});
		if (positionals[0] !== "split-sp" || positionals.length !== 1)
			throw new UsageError("the only reproducer is 'split-sp'");
		const variant = values.variant;
		if (variant !== "leaf" && variant !== "non-leaf")
			throw new UsageError("--variant must be leaf or non-leaf");
		const duration = Number(values.duration);
		const copies = Number(values.copies);
		const workers = Number(values.workers);
		if (
			!(duration > 0) ||
			!Number.isInteger(copies) ||
			copies < 1 ||
			copies > 16 ||
			!Number.isInteger(workers) ||
			workers < 1
		)
			throw new UsageError(
				"--duration must be positive, --copies 1–16, --workers a positive integer",
			);
		const go = await findGo(values.go, io.cwd);
		const step = await qemuStepFlag();
		const dir =
			values.keep === undefined
				? await mkdtemp(join(tmpdir(), "gocrash-splitsp-"))
				: resolve(io.cwd, values.keep);
		try {
			await mkdir(join(dir, "src"), { recursive: true });
			for (const [name, text] of Object.entries(SPLIT_SP_SOURCES))
				await writeFile(join(dir, "src", name), text);
			return await reproduce(io, { go, step, dir, variant, duration, copies, workers });
		} finally {
			if (values.keep === undefined) await rm(dir, { recursive: true, force: true });
		}
	},
};

async function reproduce(
	io: Io,
	o: {
		go: string;
		step: string;
		dir: string;
		variant: string;
		duration: number;
		copies: number;
		workers: number;
	},
): Promise<number> {
	const env = {
		...process.env,
		GOTOOLCHAIN: "local",
		GOFLAGS: "-mod=mod",
		GOPROXY: "off",
		GOWORK: "off",
	};
	const { stdout: version } = await exec(o.go, ["env", "GOVERSION"], { env });
	const goVersion = version.trim();
	const bin = join(o.dir, `splitsp-${goVersion}-linux-arm64-${o.variant}`);
	try {
		await exec(
			o.go,
			[
				"build",
				"-trimpath",
				"-buildvcs=false",
				"-tags",
				o.variant === "leaf" ? "" : "nonleaf",
				"-o",
				bin,
				".",
			],
			{
				cwd: join(o.dir, "src"),
				env: { ...env, GOOS: "linux", GOARCH: "arm64", CGO_ENABLED: "0" },
				timeout: 600_000,
			},
		);
	} catch (error) {
		const e = error as { stderr?: string; message: string };
		throw new InputError(`go build failed: ${(e.stderr ?? e.message).trim()}`);
	}
	io.stdout.write(
		`built ${o.variant} reproducer with ${goVersion}; running ${o.copies} cop${o.copies === 1 ? "y" : "ies"} × ${o.workers} workers for up to ${o.duration}s under qemu-aarch64 ${o.step}\n`,
	);
	const runEnv = { ...process.env, GOTRACEBACK: "system", SPLITSP_WORKERS: String(o.workers) };
	const { rules } = await loadRules([builtinRulesDir]);
	const binary = { name: bin, bin: parseGoBinary(await readFile(bin)) };
	const started = Date.now();
	const deadline = started + o.duration * 1000;
	// A crash whose victim the text does not show on the split window (the timing of the
	// preemption and the GC decides what the traceback prints) is run again while time is left,
	// so that what is reported is a confirmed crash when one comes.
	const copy = async (i: number): Promise<Diagnosis | undefined> => {
		let first: Diagnosis | undefined;
		for (let run = 1; ; run++) {
			const seconds = (deadline - Date.now()) / 1000;
			if (seconds <= 0) return first;
			const r = await runCopy([o.step, bin], runEnv, seconds);
			await writeFile(join(o.dir, `run-${i + 1}${run === 1 ? "" : `-${run}`}.txt`), r.output);
			if (!r.crashed) {
				const elapsed = (Date.now() - started) / 1000;
				io.stdout.write(
					`copy ${i + 1}: no ${first === undefined ? "crash" : "confirmed crash"} in ${elapsed.toFixed(0)}s\n`,
				);
				return first;
			}
			const reason =
				r.output.split("\n").find((l) => /^(fatal error|SIG[A-Z]+:|panic:)/.test(l)) ?? "?";
			const d = diagnose(parseCrashes(r.output), {
				rules,
				notes: collectNotes(r.output),
				binary,
			});
			const crashed = `copy ${i + 1}: crash after ${r.seconds.toFixed(0)}s: ${reason}`;
			if (confirmsSplitSP(d)) {
				io.stdout.write(`${crashed}\n`);
				return d;
			}
			const top = d.findings[0];
			const found = top === undefined ? "no known cause" : `${top.confidence} ${top.id}`;
			const again = Date.now() < deadline ? ": running it again" : "";
			io.stdout.write(`${crashed}; ${found}, not confirmed${again}\n`);
			first ??= d;
		}
	};
	const results = await Promise.all(Array.from({ length: o.copies }, (_, i) => copy(i)));
	const d =
		results.find((r) => r !== undefined && confirmsSplitSP(r)) ??
		results.find((r) => r !== undefined);
	if (d === undefined) return 0;
	if (d.binary !== null && !d.binary.matches)
		io.stdout.write(`\ngocrash diagnose: ${formatBinaryMismatch(d.binary)}\n`);
	const top = d.findings[0];
	if (top !== undefined) {
		io.stdout.write(
			`\ngocrash diagnose: ${top.confidence.toUpperCase()} ${top.id}: ${top.title}\n`,
		);
		for (const e of top.evidence) io.stdout.write(`  - ${e}\n`);
	} else io.stdout.write("\ngocrash diagnose: no known cause matched this crash\n");
	return 3;
}
