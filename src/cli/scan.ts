import {
	BinaryError,
	formatPC,
	type Module,
	type ScanReport,
	type SplitSP,
	scanGoBinary,
} from "../binary/index.js";
import { withGoBinary } from "./_binary-file.js";
import type { Command } from "./_io.js";
import { InputError, parseCommandArgs, UsageError } from "./_io.js";
import { type Style, styleFor } from "./_style.js";
import { alignColumns } from "./_table.js";

const usage = `usage: gocrash scan BINARY... [--json] [--all] [--fail-on affected]

Reads Go executables (ELF, Mach-O, PE; stripped too; gzip-compressed files are accepted) and
reports the Go version, modules, build settings and, for arm64, every stack-pointer adjustment the
arm64 compiler split over two instructions (golang/go#73259), with a verdict and remedies.

  --json              print one JSON object per binary, one per line (JSON Lines); it lists
                      every split window, preemptible or not
  --all               also list the windows that are never async-preempted (assembly,
                      runtime code, unsafe points) in the text report
  --fail-on affected  exit with status 3 when any binary is affected (for CI gates)

Exit status: 0 done, 1 a binary could not be read, 2 usage error, 3 affected (with --fail-on).
`;

/** `gocrash scan`: the split-SP report for Go binaries. */
export const scanCommand: Command = {
	name: "scan",
	summary: "read Go binaries: version, modules, and arm64 split-SP epilogues (golang/go#73259)",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			json: { type: "boolean", default: false },
			all: { type: "boolean", default: false },
			"fail-on": { type: "string" },
		});
		const failOn = values["fail-on"];
		if (failOn !== undefined && failOn !== "affected") {
			throw new UsageError(`--fail-on must be 'affected', not '${failOn}'`);
		}
		if (positionals.length === 0) throw new UsageError("no binary given");
		const style = styleFor(io.stdout.isTTY, io.env);
		let unreadable = false;
		let affected = false;
		for (const path of positionals) {
			let report: ScanReport;
			try {
				report = await withGoBinary(path, io.cwd, scanGoBinary);
			} catch (error) {
				if (positionals.length === 1) throw error;
				const message =
					error instanceof InputError
						? error.message
						: error instanceof BinaryError
							? `${path}: ${error.message}`
							: undefined;
				if (message === undefined) throw error;
				io.stderr.write(`gocrash scan: ${message}\n`);
				unreadable = true;
				continue;
			}
			affected ||= report.verdict === "affected";
			io.stdout.write(
				values.json
					? `${JSON.stringify(toJson(path, report))}\n`
					: formatReport(path, report, values.all, style),
			);
		}
		if (unreadable) return 1;
		return failOn === "affected" && affected ? 3 : 0;
	},
};

function moduleJson(m: Module): Record<string, unknown> {
	return {
		path: m.path,
		version: m.version,
		sum: m.sum,
		...(m.replace === undefined ? {} : { replace: moduleJson(m.replace) }),
	};
}

/** The `--json` document of one binary. */
export function toJson(path: string, r: ScanReport): Record<string, unknown> {
	return {
		file: path,
		format: r.format,
		goVersion: r.goVersion,
		goos: r.goos,
		goarch: r.goarch,
		main: r.main === undefined ? null : moduleJson(r.main),
		modules: r.modules.map(moduleJson),
		settings: Object.fromEntries(r.settings.map((s) => [s.key, s.value])),
		functions: r.functions,
		splitSP: r.splitSP.map((s) => ({
			function: s.function,
			pc: formatPC(s.pc),
			file: s.file,
			line: s.line,
			frameSize: s.frameSize,
			asm: s.asm,
			preemptible: s.preemptible,
			leaf: s.leaf,
			unsafePoint: s.unsafePoint,
			deltas: s.deltas,
		})),
		fixedEpilogues: r.fixedEpilogues.map((f) => ({
			function: f.function,
			pc: formatPC(f.pc),
			frameSize: f.frameSize,
		})),
		verdict: r.verdict,
		nonLeafFix: r.nonLeafFix ?? null,
		hazardousFunctions: r.hazardousFunctions,
		reasons: r.reasons,
		remedies: r.remedies,
	};
}

function formatReport(path: string, r: ScanReport, all: boolean, style: Style): string {
	const out: string[] = [];
	const kind = { elf: "ELF", macho: "Mach-O", pe: "PE" }[r.format];
	out.push(
		`${style.bold(path)}: ${kind} ${r.goos}/${r.goarch}, ${r.goVersion || "unknown Go version"}, ${r.functions} functions`,
	);
	if (r.main !== undefined) out.push(`  main module: ${r.main.path} ${r.main.version}`);
	if (r.modules.length > 0) {
		out.push(`  modules (${r.modules.length}):`);
		for (const m of r.modules) {
			const rep =
				m.replace === undefined ? "" : ` => ${m.replace.path} ${m.replace.version}`.trimEnd();
			out.push(`    ${m.path} ${m.version}${rep}`);
		}
	}
	const settings = r.settings.filter((s) => !s.key.startsWith("DefaultGODEBUG"));
	if (settings.length > 0) {
		const quote = (v: string): string => (/[\s"]/.test(v) ? JSON.stringify(v) : v);
		out.push(`  build: ${settings.map((s) => `${s.key}=${quote(s.value)}`).join(" ")}`);
	}
	const verdict =
		r.verdict === "affected" ? style.red(style.bold("AFFECTED")) : style.green("not affected");
	out.push(`  verdict: ${verdict}`);
	for (const reason of r.reasons) out.push(`    ${reason}`);
	const shown = all ? r.splitSP : r.splitSP.filter((s) => s.preemptible);
	if (shown.length > 0) {
		const what = all ? "split SP adjustments" : "async-preemptible split SP adjustments";
		out.push(`  ${what} (${shown.length}; PC is the exposed second instruction):`);
		out.push(...formatSplits(shown, style));
	}
	const hidden = r.splitSP.length - shown.length;
	if (hidden > 0) {
		const names = [...new Set(r.splitSP.filter((s) => !s.preemptible).map((s) => s.function))];
		const list = names.length > 4 ? `${names.slice(0, 4).join(", ")}, …` : names.join(", ");
		out.push(
			`  ${hidden} more split window(s) that are never async-preempted (assembly, runtime or unsafe points: ${list}); --all lists them`,
		);
	}
	if (r.remedies.length > 0) {
		out.push("  remedies:");
		for (const remedy of r.remedies) out.push(`    - ${remedy}`);
	}
	return `${out.join("\n")}\n\n`;
}

function formatSplits(splits: readonly SplitSP[], style: Style): string[] {
	const rows = splits.map((s) => [
		formatPC(s.pc),
		s.function,
		`${s.file.slice(s.file.lastIndexOf("/") + 1)}:${s.line}`,
		formatPC(s.frameSize),
		s.leaf ? "leaf" : "non-leaf",
		s.asm ? "asm" : "go",
		s.preemptible ? "preemptible" : `not preemptible (${s.asm ? "assembly" : unsafeName(s)})`,
	]);
	const header = ["PC", "FUNCTION", "FILE:LINE", "FRAME", "KIND", "CODE", "PREEMPTION"];
	const [head, ...lines] = alignColumns([header, ...rows]).map((l) => `    ${l}`);
	return [
		style.dim(head as string),
		...lines.map((l, i) => (splits[i]?.preemptible ? style.yellow(l) : l)),
	];
}

function unsafeName(s: SplitSP): string {
	return s.unsafePoint === -2 ? "unsafe point" : "runtime code";
}
