import { once } from "node:events";
import type { Writable } from "node:stream";
import {
	type AsyncPreemption,
	type CoreFrame,
	type CoreGoroutine,
	type CoreReport,
	type CoreScan,
	type CreatedBy,
	formatPreemption,
	formatTarget,
	type RegisterValue,
	type StackWords,
	type ValueTarget,
} from "../core/index.js";
import type { Crash, Frame, Goroutine } from "../traceback/index.js";
import { newFrame } from "../traceback/index.js";
import { type Bucket, GoroutineBuckets } from "../triage/index.js";
import { withGoBinary } from "./_binary-file.js";
import { BufferedOutput } from "./_buffered.js";
import { scanCoreFile } from "./_core-file.js";
import type { Command } from "./_io.js";
import { parseCommandArgs, UsageError, wholeNumberOption } from "./_io.js";
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
							goroutine: inRange("goroutine", values.goroutine, 1, Number.MAX_SAFE_INTEGER),
							count: inRange("words", values.words ?? "32", 1, 4096),
						},
					};
		await withGoBinary(binary, io.cwd, async (bin) => {
			if (values.json) {
				await scanCoreFile(bin, corefile, io.cwd, options, (scan) => writeJSON(scan, io.stdout));
			} else {
				const style = styleFor(io.stdout.isTTY, io.env);
				await scanCoreFile(bin, corefile, io.cwd, options, async (scan) => {
					io.stdout.write(formatView(scan, style));
				});
			}
		});
		return 0;
	},
};

// Hex of an address: a number past 2^31 is printed in two parts, which V8 does twice as fast as
// one (the document has a million sp values for 100k goroutines).
function hex(n: number | bigint): string {
	if (typeof n === "bigint" || n < 0x80000000) return `0x${n.toString(16)}`;
	const hi = Math.floor(n / 0x1000000);
	return `0x${hi.toString(16)}${(n - hi * 0x1000000 + 0x1000000).toString(16).slice(1)}`;
}

function inRange(name: string, text: string, min: number, max: number): number {
	const n = wholeNumberOption(name, text, min);
	if (n < min || n > max)
		throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'`);
	return n;
}

function targetJSON(t: ValueTarget | undefined): unknown {
	return t === undefined ? null : { ...t, ...("offset" in t ? { offset: hex(t.offset) } : {}) };
}

function registerValuesJSON(values: readonly RegisterValue[]): unknown {
	return values.map((v) => ({ name: v.name, value: hex(v.value), target: targetJSON(v.target) }));
}

function stackWordsJSON(w: StackWords | undefined): unknown {
	return w === undefined
		? null
		: {
				goroutine: w.goroutine,
				sp: hex(w.sp),
				words: w.words.map((word) => ({
					address: hex(word.address),
					value: hex(word.value),
					frameSP: word.frameSP ?? null,
					target: targetJSON(word.target),
				})),
			};
}

/**
 * Writes the `--json` document as the goroutines are read, so that the goroutines of a core are
 * never all held (nor, waiting for a slow reader, their text): goVersion, goarch, layout,
 * truncated, threads, signal, goroutines, then preempted, registerValues and stackWords.
 */
async function writeJSON(scan: CoreScan, stream: Writable): Promise<void> {
	const head = JSON.stringify({
		goVersion: scan.goVersion,
		goarch: scan.goarch,
		layout: scan.layout,
		truncated: scan.truncated ?? null,
		threads: scan.threads.map((t) => ({
			tid: t.tid,
			pc: hex(t.pc),
			sp: hex(t.sp),
			signal: t.signal ?? null,
		})),
		signal:
			scan.signal === undefined
				? null
				: {
						name: scan.signal.name,
						code: scan.signal.code,
						addr: scan.signal.addr === undefined ? null : hex(scan.signal.addr),
						thread: scan.signal.thread,
					},
	});
	const out = new BufferedOutput(stream);
	out.write(`${head.slice(0, -1)},"goroutines":[`);
	const preempted: AsyncPreemption[] = [];
	const texts = new DocumentTexts();
	let first = true;
	for (const { goroutine, preempted: p } of scan.scanGoroutines()) {
		if (p !== undefined) preempted.push(p);
		if (!first) out.writeBytes(pieces.comma);
		writeGoroutine(out, goroutine, texts);
		first = false;
		if (stream.writableNeedDrain) await once(stream, "drain");
	}
	const preemptions = JSON.stringify(preempted.map((p) => preemptionJSON(p, scan.bias)));
	const { registerValues, stackWords } = scan.named();
	const named = JSON.stringify({
		registerValues: registerValuesJSON(registerValues),
		stackWords: stackWordsJSON(stackWords),
	});
	out.write(`],"preempted":${preemptions},${named.slice(1)}\n`);
	out.flush();
}

/** A frame's JSON without its sp, after a comma and (`first`) without, and the next at its pc. */
interface FrameText {
	readonly function: string;
	readonly file: string;
	readonly line: number;
	readonly bytes: Buffer;
	readonly first: Buffer;
	readonly next: FrameText | undefined;
}

/**
 * The JSON of what goroutines share, encoded once: a frame without its sp, a created-by without
 * its goroutine, a status: 100k goroutines of a core run through a few hundred of them.
 */
class DocumentTexts {
	// By pc; the frames inlined at a pc share it, and are chained.
	readonly #frames = new Map<number, FrameText>();
	readonly #createdBy = new Map<number, Buffer>();
	readonly #strings = new Map<string | undefined, Buffer>();

	/** `{"function":…,"file":…,"line":…,"pc":…,"sp":"`, open for the sp; after a comma unless `first`. */
	frame(f: CoreFrame, first: boolean): Buffer {
		let t = this.#frames.get(f.pc);
		while (t !== undefined && (t.function !== f.function || t.file !== f.file || t.line !== f.line))
			t = t.next;
		if (t === undefined) {
			const bytes = Buffer.from(
				`,{"function":${JSON.stringify(f.function)},"file":${JSON.stringify(f.file)},"line":${f.line},"pc":"${hex(f.pc)}","sp":"`,
			);
			const next = this.#frames.get(f.pc);
			t = {
				function: f.function,
				file: f.file,
				line: f.line,
				bytes,
				first: bytes.subarray(1),
				next,
			};
			this.#frames.set(f.pc, t);
		}
		return first ? t.first : t.bytes;
	}

	/** `,"createdBy":{"function":…,"file":…,"line":…,"pc":…,"goroutine":`, open for the goroutine. */
	createdBy(c: CreatedBy): Buffer {
		let bytes = this.#createdBy.get(c.pc);
		if (bytes === undefined) {
			bytes = Buffer.from(
				`,"createdBy":{"function":${JSON.stringify(c.function)},"file":${JSON.stringify(c.file)},"line":${c.line},"pc":"${hex(c.pc)}","goroutine":`,
			);
			this.#createdBy.set(c.pc, bytes);
		}
		return bytes;
	}

	/** A string (a status, a wait reason) as JSON; undefined as null. */
	string(text: string | undefined): Buffer {
		let bytes = this.#strings.get(text);
		if (bytes === undefined) {
			bytes = Buffer.from(JSON.stringify(text ?? null));
			this.#strings.set(text, bytes);
		}
		return bytes;
	}
}

// The document's fixed pieces of a goroutine, encoded once.
const pieces = {
	id: Buffer.from('{"id":'),
	status: Buffer.from(',"status":'),
	waitReason: Buffer.from(',"waitReason":'),
	frames: Buffer.from(',"frames":['),
	comma: Buffer.from(","),
	framesEnd: Buffer.from("]"),
	noCreatedBy: Buffer.from(',"createdBy":null}'),
	noParent: Buffer.from("null"),
	createdByEnd: Buffer.from("}}"),
};

// One goroutine of the document: id, status, waitReason, frames (function, file, line, pc, sp),
// createdBy (function, file, line, pc, goroutine). Written as bytes: a core's document is
// hundreds of MB, and these pieces are most of it.
function writeGoroutine(out: BufferedOutput, g: CoreGoroutine, texts: DocumentTexts): void {
	out.writeBytes(pieces.id);
	out.writeInt(g.id);
	out.writeBytes(pieces.status);
	out.writeBytes(texts.string(g.status));
	out.writeBytes(pieces.waitReason);
	out.writeBytes(texts.string(g.waitReason));
	out.writeBytes(pieces.frames);
	const frames = g.frames;
	for (let i = 0; i < frames.length; i++) {
		const f = frames[i] as CoreFrame;
		out.writeBytes(texts.frame(f, i === 0));
		out.writeHex(f.sp);
		out.writeByte(0x22); // "
		out.writeByte(0x7d); // }
	}
	out.writeBytes(pieces.framesEnd);
	const c = g.createdBy;
	if (c === null) {
		out.writeBytes(pieces.noCreatedBy);
		return;
	}
	out.writeBytes(texts.createdBy(c));
	if (c.goroutine === null) out.writeBytes(pieces.noParent);
	else out.writeInt(c.goroutine);
	out.writeBytes(pieces.createdByEnd);
}

function preemptionJSON(p: AsyncPreemption, bias: number): unknown {
	return {
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
							pc: hex(p.splitSP.window.pc + bias),
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
		text: formatPreemption(p, bias),
	};
}

type Style = ReturnType<typeof styleFor>;

/**
 * The human view: the threads, then the goroutines grouped as `gocrash parse` groups them, each
 * added to its bucket as it is read, so that the goroutines of a core are never all held. The
 * goroutine on the thread that took the signal is the crashed one.
 */
function formatView(scan: CoreScan, s: Style): string {
	const buckets = new GoroutineBuckets("exact");
	const frames = new ViewFrames();
	const preempted: AsyncPreemption[] = [];
	const signalled = scan.signal?.thread;
	let count = 0;
	for (const { goroutine, preempted: p } of scan.scanGoroutines()) {
		if (p !== undefined) preempted.push(p);
		const crashed = signalled !== undefined && goroutine.tid === signalled;
		buckets.add(toGoroutine(goroutine, frames), crashed);
		count++;
	}
	return formatReport({ ...scan, preempted, ...scan.named() }, buckets.buckets(), count, s);
}

function formatReport(
	r: Omit<CoreReport, "goroutines">,
	buckets: readonly Bucket[],
	count: number,
	s: Style,
): string {
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
	lines.push(formatCrash(crashOf(r, count), buckets, s));
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

// A goroutine of the core as the traceback model, so that the view of `gocrash parse` groups and
// shows it.
function toGoroutine(g: CoreGoroutine, frames: ViewFrames): Goroutine {
	return {
		id: g.id,
		state: g.state,
		stateText: g.state,
		scan: g.scan,
		waitMinutes: null,
		lockedToThread: g.lockedToThread,
		gp: hex(g.gp),
		m: g.tid === undefined ? null : String(g.tid),
		mp: null,
		frames: g.frames.map((f) => frames.frame(f)),
		elided: [],
		stackUnavailable: g.from === "unavailable",
		createdBy: g.createdBy === null ? null : frames.createdBy(g.createdBy),
		ancestors: [],
		line: 0,
	};
}

/**
 * The frames of the view, one per function, pc, file and line, shared by the goroutines there:
 * the grouped view shows and compares a frame's function, file and line, never its pc or sp, and
 * 100k goroutines of a core run through a few hundred frames. One pc may have two lines: as a
 * return address it is the call's line, where a goroutine faulted or was preempted its own.
 */
class ViewFrames {
	readonly #frames = new Map<string, Map<number, Frame[]>>();
	readonly #createdBy = new Map<number, Frame>();

	frame(f: CoreFrame): Frame {
		let byPc = this.#frames.get(f.function);
		if (byPc === undefined) {
			byPc = new Map();
			this.#frames.set(f.function, byPc);
		}
		let atPc = byPc.get(f.pc);
		if (atPc === undefined) {
			atPc = [];
			byPc.set(f.pc, atPc);
		}
		let frame = atPc.find((x) => x.line === f.line && x.file === f.file);
		if (frame === undefined) {
			frame = newFrame(f.function, f.inlined ? "..." : null);
			frame.file = f.file;
			frame.line = f.line;
			atPc.push(frame);
		}
		return frame;
	}

	createdBy(c: CreatedBy): Goroutine["createdBy"] {
		let frame = this.#createdBy.get(c.pc);
		if (frame === undefined) {
			frame = newFrame(c.function, null);
			frame.file = c.file;
			frame.line = c.line;
			this.#createdBy.set(c.pc, frame);
		}
		return { frame, goroutine: c.goroutine };
	}
}

// The core's heading as the traceback model, for the view of `gocrash parse`; its `count`
// goroutines are in the buckets.
function crashOf(r: Omit<CoreReport, "goroutines">, count: number): Crash {
	const signalTid = r.signal?.thread;
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
		goroutines: [],
		goroutineCount: count,
		exitStatus: null,
		exitSignal: null,
		truncated: false,
		startLine: 0,
		endLine: 0,
	};
}
