import { parseArgs } from "node:util";
import { formatPC, loadBias, type Symbolized, symbolizePC } from "../binary/index.js";
import { readGoBinary } from "./_binary-file.js";
import type { Command } from "./_io.js";
import { InputError, UsageError } from "./_io.js";

const usage = `usage: gocrash symbolize BINARY PC... [--frame FUNC+OFFSET@PC] [--json]

Prints the function, offset and file:line of each PC (hex, as in Go crash output).

  --frame FUNC+OFFSET@PC  for a PIE binary: one frame of the crash whose function and offset are
                          known, e.g. 'main.main+0x1c@0xaaaacc2b1234'; the load base is worked
                          out from it and subtracted from every PC
  --json                  print one JSON object per PC, one per line

Exit status: 0 all PCs resolved, 1 some PC is outside Go code or the binary is unreadable.
`;

const framePattern = /^(.+)\+0x([0-9a-fA-F]{1,16})@(?:0x)?([0-9a-fA-F]{1,16})$/;

/** `gocrash symbolize`: PCs to function+offset and file:line, PIE load base included. */
export const symbolizeCommand: Command = {
	name: "symbolize",
	summary: "resolve PCs to function+offset and file:line (PIE crash PCs too)",
	usage,
	async run(args, io) {
		const { values, positionals } = parseArgs({
			args: [...args],
			allowPositionals: true,
			options: { frame: { type: "string" }, json: { type: "boolean", default: false } },
		});
		const [path, ...pcArgs] = positionals;
		if (path === undefined || pcArgs.length === 0)
			throw new UsageError("need a binary and at least one PC");
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
		let missing = false;
		for (const pc of pcs) {
			const s = symbolizePC(bin, pc - bias);
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
	return { ...base, function: s.function, offset: formatPC(s.offset), file: s.file, line: s.line };
}

function formatLine(pc: number, bias: number, s: Symbolized | undefined, pie: boolean): string {
	const where =
		bias === 0 ? formatPC(pc) : `${formatPC(pc)} (${formatPC(pc - bias)} in the binary)`;
	if (s === undefined) {
		const hint = pie && bias === 0 ? "; for a PIE binary, pass --frame FUNC+OFFSET@PC" : "";
		return `${where}  ? (not in Go code${hint})`;
	}
	return `${where}  ${s.function}+${formatPC(s.offset)}  ${s.file}:${s.line}`;
}
