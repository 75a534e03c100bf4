import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { formatPC, loadBias, type Symbolized, symbolizePC } from "../binary/index.js";
import { collectNotes, matchBinary } from "../diagnose/index.js";
import { parseCrashes } from "../traceback/index.js";
import { readGoBinary } from "./_binary-file.js";
import { type CrashPCs, readCrashPCs } from "./_crash-pcs.js";
import type { Command } from "./_io.js";
import { InputError, parseCommandArgs, UsageError } from "./_io.js";

const usage = `usage: gocrash symbolize BINARY [PC...] [--crash FILE | --frame FUNC+OFFSET@PC] [--return-addresses] [--json]

Prints the function, offset and file:line of each PC (hex, as in Go crash output), and the
inlined calls at it, innermost first, as a Go traceback prints a frame there.

  --crash FILE            read the crash output of this binary: work out the load base from its
                          frames (PIE binaries are loaded at a random base), resolve the signal PC
                          and registers, and name every frame stopped on a split SP adjustment
                          (golang/go#73259); a binary whose Go version, GOARCH or frames differ
                          from the crash's is refused
  --frame FUNC+OFFSET@PC  for a PIE binary: one frame of the crash whose function and offset are
                          known, e.g. 'main.main+0x1c@0xaaaacc2b1234'; the load base is worked
                          out from it and subtracted from every PC
  --return-addresses      the PCs are return addresses, as the pc= of every traceback frame
                          but one a signal stopped (the frame below runtime.sigpanic or
                          runtime.asyncPreempt): resolve each to its call instruction, as the
                          traceback does
  --json                  print one JSON object per PC, one per line

Exit status: 0 all PCs resolved, 1 some PC is outside Go code, the binary is unreadable or it
does not match the --crash file.
`;

const framePattern = /^(.+)\+0x([0-9a-fA-F]{1,16})@(?:0x)?([0-9a-fA-F]{1,16})$/;

/** `gocrash symbolize`: PCs to function+offset and file:line, PIE load base included. */
export const symbolizeCommand: Command = {
	name: "symbolize",
	summary: "resolve PCs to function+offset and file:line (PIE crash PCs too)",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			crash: { type: "string" },
			frame: { type: "string" },
			json: { type: "boolean", default: false },
			"return-addresses": { type: "boolean", default: false },
		});
		const [path, ...pcArgs] = positionals;
		if (path === undefined || (pcArgs.length === 0 && values.crash === undefined)) {
			throw new UsageError("need a binary and at least one PC or --crash FILE");
		}
		if (values.crash !== undefined && values.frame !== undefined) {
			throw new UsageError("--crash and --frame both set the load base: give one");
		}
		const pcs = pcArgs.map((a) => {
			if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(a)) throw new UsageError(`'${a}' is not a hex PC`);
			return Number.parseInt(a.replace(/^0x/, ""), 16);
		});
		const bin = await readGoBinary(path, io.cwd);
		let bias = 0;
		if (values.frame !== undefined) {
			const m = framePattern.exec(values.frame);
			if (m === null)
				throw new UsageError(`--frame must look like FUNC+0xOFFSET@0xPC, not '${values.frame}'`);
			try {
				bias = loadBias(
					bin,
					m[1] as string,
					Number.parseInt(m[2] as string, 16),
					Number.parseInt(m[3] as string, 16),
				);
			} catch (error) {
				throw new InputError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
			}
		}
		let crash: CrashPCs | undefined;
		if (values.crash !== undefined) {
			const text = await readFile(resolve(io.cwd, values.crash), "utf8");
			const parsed = parseCrashes(text);
			const match = matchBinary(parsed, collectNotes(text), path, bin);
			if (!match.matches)
				throw new InputError(
					`${path} does not match the crash in ${values.crash}: ${match.differences.join("; ")}`,
				);
			crash = readCrashPCs(bin, parsed.crashes, match);
			bias = crash.bias;
			if (!values.json) {
				io.stdout.write(`load bias ${formatPC(bias)} (${crash.biasSource})\n`);
			}
		}
		let missing = false;
		for (const { label, pc } of crash?.pcs ?? []) {
			const s = symbolizePC(bin, pc - bias);
			io.stdout.write(
				values.json
					? `${JSON.stringify({ source: label, ...toJson(pc, bias, s) })}\n`
					: `${label}: ${formatLine(pc, bias, s, bin.image.pie)}\n`,
			);
		}
		for (const f of crash?.splitFrames ?? []) {
			const s = f.split;
			const note = `exposed instruction of a split SP adjustment (golang/go#73259): pcsp says ${formatPC(s.frameSize)}, SP was ${formatPC(s.frameSize - s.deltas[0])} below entry`;
			io.stdout.write(
				values.json
					? `${JSON.stringify({ source: `goroutine ${f.goroutine ?? "?"}`, state: f.state, pc: formatPC(s.pc + bias), linkPC: formatPC(s.pc), function: s.function, file: s.file, line: s.line, splitSP: { frameSize: s.frameSize, deltas: s.deltas, leaf: s.leaf, preemptible: s.preemptible } })}\n`
					: `goroutine ${f.goroutine ?? "?"} [${f.state}]: ${f.frame} = ${formatPC(s.pc)}  ${s.file}:${s.line}  ◀ ${note}\n`,
			);
		}
		for (const pc of pcs) {
			const s = symbolizePC(bin, pc - bias, values["return-addresses"]);
			if (s === undefined) missing = true;
			io.stdout.write(
				values.json
					? `${JSON.stringify(toJson(pc, bias, s))}\n`
					: `${formatLine(pc, bias, s, bin.image.pie)}\n`,
			);
		}
		return missing ? 1 : 0;
	},
};

function toJson(pc: number, bias: number, s: Symbolized | undefined): Record<string, unknown> {
	const base = { pc: formatPC(pc), ...(bias === 0 ? {} : { linkPC: formatPC(pc - bias) }) };
	if (s === undefined) return { ...base, function: null };
	const inlined = s.inlined.map((f) => ({ function: f.function, file: f.file, line: f.line }));
	return {
		...base,
		function: s.function,
		offset: formatPC(s.offset),
		file: s.file,
		line: s.line,
		...(inlined.length === 0 ? {} : { inlined }),
	};
}

function formatLine(pc: number, bias: number, s: Symbolized | undefined, pie: boolean): string {
	const where =
		bias === 0 ? formatPC(pc) : `${formatPC(pc)} (${formatPC(pc - bias)} in the binary)`;
	if (s === undefined) {
		const hint = pie && bias === 0 ? "; for a PIE binary, pass --frame FUNC+OFFSET@PC" : "";
		return `${where}  ? (not in Go code${hint})`;
	}
	const calls = s.inlined.map((f) => `\n  inlined ${f.function}  ${f.file}:${f.line}`);
	return `${where}  ${s.function}+${formatPC(s.offset)}  ${s.file}:${s.line}${calls.join("")}`;
}
