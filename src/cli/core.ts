import {
	type CoreFrame,
	type CoreReport,
	type CreatedBy,
	formatPreemption,
	formatTarget,
	type ValueTarget,
} from "../core/index.js";
import type { Crash, Frame, Goroutine } from "../traceback/index.js";
import { newFrame } from "../traceback/index.js";
import { bucketGoroutines } from "../triage/index.js";
import { withGoBinary } from "./_binary-file.js";
import { readCoreFile } from "./_core-file.js";
import type { Command } from "./_io.js";
import { parseCommandArgs, UsageError } from "./_io.js";
import { formatCrash } from "./_parse-view.js";
import { styleFor } from "./_style.js";

const usage = `usage: gocrash core BINARY COREFILE [--goroutine N [--words N]] [--json]

Reads a Linux ELF core file of a Go program (linux/amd64 and linux/arm64, Go 1.19, 1.21-1.26)
together with the executable that made it: the threads and their registers, the signal that
made the core, and every goroutine with its state and its stack, unwound with the binary's
pcsp table. Memory the core leaves out (text, read-only data) is read from BINARY where the
core's NT_FILE note says it was mapped (QEMU's cores have no NT_FILE: then at its link
addresses moved by the load bias that AT_ENTRY gives). The offsets of the runtime's fields come
from BINARY's DWARF, else (built with -ldflags=-w) from a table per Go version. BINARY must have
its symbol table (runtime.allgs): not built with -ldflags=-s, not stripped.

  --goroutine N  also print goroutine N's stack words around its SP (a few below it, then
                 upwards), each with the frame whose SP it is and what its value points at
  --words N      how many words --goroutine prints (default 32, at most 4096)
  --json         print one JSON document: goVersion, goarch, layout ("dwarf" or "table"),
                 threads (tid, pc, sp, signal), signal (name, code, addr, thread; null when
                 none), goroutines (id, status, waitReason, frames: function, file, line, pc,
                 sp; createdBy: function, file, line, pc, goroutine, null for goroutine 1),
                 preempted (arm64: each goroutine stopped in runtime.asyncPreempt: goroutine,
                 pc, function, file, line, offset, sp, lr, pcsp, splitSP: null off the split-SP
                 windows, else window, spOffBy, returnAddress, returnFunction, unwinderCallerSP,
                 realCallerSP; text: the sentence printed), registerValues (the signalled
                 thread's registers that point at code, a goroutine's stack or its g: name,
                 value, target), stackWords (with --goroutine: goroutine, sp, words: address,
                 value, frameSP, target; null without it), truncated (size and expected: the
                 core file's size and the size its segments need, when it is shorter; else null)

Exit status: 0 done, 1 a file could not be read or the core is not of BINARY (one line saying
what and where; a core of another build names both build ids), 2 usage error.
`;

/** `gocrash core`: the goroutines, threads and signal of a Go program's core file. */
export const coreCommand: Command = {
	name: "core",
	summary: "read a Go program's core file: threads, signal, every goroutine's stack",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			json: { type: "boolean", default: false },
			goroutine: { type: "string" },
			words: { type: "string" },
		});
		const [binary, corefile, ...rest] = positionals;
		if (binary === undefined || corefile === undefined || rest.length > 0) {
			throw new UsageError("need a binary and a core file");
		}
		if (values.words !== undefined && values.goroutine === undefined)
			throw new UsageError("--words counts the words of --goroutine N: give --goroutine");
		const options =
			values.goroutine === undefined
				? {}
				: {
						stackWords: {
							goroutine: count("--goroutine", values.goroutine, 1, Number.MAX_SAFE_INTEGER),
							count: count("--words", values.words ?? "32", 1, 4096),
						},
					};
		const report = await withGoBinary(binary, io.cwd, (bin) =>
			readCoreFile(bin, corefile, io.cwd, options),
		);
		if (values.json) {
			io.stdout.write(`${JSON.stringify(toJSON(report))}\n`);
		} else {
			io.stdout.write(formatReport(report, styleFor(io.stdout.isTTY, io.env)));
		}
		return 0;
	},
};

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

function count(flag: string, text: string, min: number, max: number): number {
	const n = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
	if (!(n >= min && n <= max))
		throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not '${text}'`);
	return n;
}

function targetJSON(t: ValueTarget | undefined): unknown {
	return t === undefined ? null : { ...t, ...("offset" in t ? { offset: hex(t.offset) } : {}) };
}

/** The `--json` document of a core report. */
export function toJSON(r: CoreReport): unknown {
	return {
		goVersion: r.goVersion,
		goarch: r.goarch,
		layout: r.layout,
		threads: r.threads.map((t) => ({
			tid: t.tid,
			pc: hex(t.pc),
			sp: hex(t.sp),
			signal: t.signal ?? null,
		})),
		signal:
			r.signal === undefined
				? null
				: {
						name: r.signal.name,
						code: r.signal.code,
						addr: r.signal.addr === undefined ? null : hex(r.signal.addr),
						thread: r.signal.thread,
					},
		preempted: r.preempted.map((p) => ({
			goroutine: p.goroutine,
			pc: hex(p.pc),
			function: p.function,
			file: p.file,
			line: p.line,
			offset: p.offset,
			sp: hex(p.sp),
			lr: hex(p.lr),
			lrFunction: p.lrFunction ?? null,
			pcsp: p.pcsp,
			splitSP:
				p.splitSP === undefined
					? null
					: {
							window: {
								pc: hex(p.splitSP.window.pc + r.bias),
								deltas: p.splitSP.window.deltas,
								frameSize: p.splitSP.window.frameSize,
								leaf: p.splitSP.window.leaf,
							},
							spOffBy: p.splitSP.spOffBy,
							returnAddress: hex(p.splitSP.returnAddress),
							returnFunction: p.splitSP.returnFunction ?? null,
							unwinderCallerSP: hex(p.splitSP.unwinderCallerSP),
							realCallerSP: hex(p.splitSP.realCallerSP),
						},
			text: formatPreemption(p, r.bias),
		})),
		truncated: r.truncated ?? null,
		registerValues: r.registerValues.map((v) => ({
			name: v.name,
			value: hex(v.value),
			target: targetJSON(v.target),
		})),
		stackWords:
			r.stackWords === undefined
				? null
				: {
						goroutine: r.stackWords.goroutine,
						sp: hex(r.stackWords.sp),
						words: r.stackWords.words.map((w) => ({
							address: hex(w.address),
							value: hex(w.value),
							frameSP: w.frameSP ?? null,
							target: targetJSON(w.target),
						})),
					},
		goroutines: r.goroutines.map((g) => ({
			id: g.id,
			status: g.status,
			waitReason: g.waitReason ?? null,
			frames: g.frames.map((f) => ({
				function: f.function,
				file: f.file,
				line: f.line,
				pc: hex(f.pc),
				sp: hex(f.sp),
			})),
			createdBy:
				g.createdBy === null
					? null
					: {
							function: g.createdBy.function,
							file: g.createdBy.file,
							line: g.createdBy.line,
							pc: hex(g.createdBy.pc),
							goroutine: g.createdBy.goroutine,
						},
		})),
	};
}

// The human view: the threads, then the goroutines grouped as `gocrash parse` groups them.
function formatReport(r: CoreReport, s: ReturnType<typeof styleFor>): string {
	const lines: string[] = [];
	lines.push(
		s.bold(`━━ core of ${r.command ?? "?"} · ${r.goVersion} linux/${r.goarch}`) +
			(r.bias === 0 ? "" : s.dim(` · loaded at bias ${hex(r.bias)}`)) +
			s.dim(r.layout === "dwarf" ? " · layout from DWARF" : " · layout from the table"),
	);
	if (r.truncated !== undefined)
		lines.push(
			s.red(
				`the core file is truncated: ${r.truncated.size} of ${r.truncated.expected} bytes (a core size limit such as ulimit -c?); what is shown was read from the part kept`,
			),
		);
	lines.push(s.bold(`threads (${r.threads.length}):`));
	for (const t of r.threads) {
		const sig = t.signal === undefined ? "" : `  ${s.yellow(t.signal)}`;
		const took = r.signal?.thread === t.tid ? s.red("  ◀ took the signal") : "";
		lines.push(`  ${String(t.tid).padEnd(8)} pc=${hex(t.pc)} sp=${hex(t.sp)}${sig}${took}`);
	}
	const signalled = r.signal?.thread;
	if (r.registerValues.length > 0 && signalled !== undefined) {
		lines.push("");
		lines.push(s.bold(`registers of thread ${signalled} that point at code, a stack or a g:`));
		const width = Math.max(...r.registerValues.map((v) => v.name.length));
		for (const v of r.registerValues)
			lines.push(
				`  ${v.name.padEnd(width)}  ${hex(v.value).padEnd(18)}  ${formatTarget(v.target)}`,
			);
	}
	if (r.preempted.length > 0) {
		const split = r.preempted.filter((p) => p.splitSP !== undefined).length;
		lines.push("");
		lines.push(
			s.bold(
				`asynchronously preempted goroutines (${r.preempted.length}, ${split} on a split-SP window):`,
			),
		);
		for (const p of r.preempted) {
			const text = `  ${formatPreemption(p, r.bias)}`;
			lines.push(p.splitSP === undefined ? text : s.red(text));
		}
	}
	lines.push("");
	const crash = toCrash(r);
	const crashed = r.signal !== undefined && crash.goroutines[0]?.m !== null;
	lines.push(formatCrash(crash, bucketGoroutines(crash.goroutines, "exact", crashed), s));
	const w = r.stackWords;
	if (w !== undefined) {
		lines.push("");
		lines.push(s.bold(`stack of goroutine ${w.goroutine} from its SP ${hex(w.sp)}:`));
		for (const word of w.words) {
			const mark = word.address === w.sp ? "▶" : " ";
			const notes = [
				...(word.target === undefined ? [] : [formatTarget(word.target)]),
				...(word.frameSP === undefined ? [] : [s.dim(`◀ sp of ${word.frameSP}`)]),
			];
			const value = hex(word.value);
			lines.push(
				`${mark} ${hex(word.address)}: ${notes.length === 0 ? value : `${value.padEnd(18)}  ${notes.join("  ")}`}`,
			);
		}
	}
	return `${lines.join("\n")}\n`;
}

// The core as the traceback model, so that the view of `gocrash parse` shows it; the goroutine
// running on the thread that took the signal comes first.
function toCrash(r: CoreReport): Crash {
	const signalTid = r.signal?.thread;
	const goroutines = r.goroutines.map(
		(g): Goroutine => ({
			id: g.id,
			state: g.state,
			stateText: g.state,
			scan: g.scan,
			waitMinutes: null,
			lockedToThread: g.lockedToThread,
			gp: hex(g.gp),
			m: g.tid === undefined ? null : String(g.tid),
			mp: null,
			frames: g.frames.map(toFrame),
			elided: [],
			stackUnavailable: g.from === "unavailable",
			createdBy: g.createdBy === null ? null : createdByFrame(g.createdBy),
			ancestors: [],
			line: 0,
		}),
	);
	const first = goroutines.findIndex((g) => signalTid !== undefined && g.m === String(signalTid));
	if (first > 0) goroutines.unshift(...goroutines.splice(first, 1));
	const sig = r.signal;
	const registers = Object.fromEntries(
		(r.threads.find((t) => t.tid === signalTid)?.registers ?? []).map(([n, v]) => [n, hex(v)]),
	);
	return {
		kind: sig === undefined ? "dump" : "signal",
		message:
			sig === undefined
				? null
				: `${sig.name} on thread ${sig.thread} (code=${sig.code}${sig.addr === undefined ? "" : ` addr=${hex(sig.addr)}`})`,
		panics: [],
		fatal: null,
		signal: null,
		runtimeLines: [],
		panicDuringPanic: false,
		stackDumps: [],
		runtimeStack: [],
		registers,
		threads: [],
		goroutines,
		goroutineCount: goroutines.length,
		exitStatus: null,
		exitSignal: null,
		truncated: false,
		startLine: 0,
		endLine: 0,
	};
}

function createdByFrame(c: CreatedBy): Goroutine["createdBy"] {
	const frame = newFrame(c.function, null);
	frame.file = c.file;
	frame.line = c.line;
	frame.pc = hex(c.pc);
	return { frame, goroutine: c.goroutine };
}

function toFrame(f: CoreFrame): Frame {
	const frame = newFrame(f.function, f.inlined ? "..." : null);
	frame.file = f.file;
	frame.line = f.line;
	frame.pc = hex(f.pc);
	frame.sp = hex(f.sp);
	return frame;
}
