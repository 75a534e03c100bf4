#!/usr/bin/env node
// Cuts crash-text fragments out of the real split-SP crashes in test/fixtures/diagnose/split-sp/:
// the shapes users paste (one goroutine's stanza, a stack whose header lines were lost or moved,
// lines in reverse order).
// Each fragment is pieces of one fixture, by line number, in the order given; the script writes
// test/fixtures/diagnose/fragments/<name>.txt and <name>.meta.json (which fixture, which lines),
// and the rule examples named in `example` (their `source` says the fragment file).
//
//   node scripts/cut-fragments.mjs           write the files (then Biome formats the rule file)
//   node scripts/cut-fragments.mjs --check   exit 1 when a file differs from what it would write
import { readFileSync, writeFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const source = "test/fixtures/diagnose/split-sp/";
const out = "test/fixtures/diagnose/fragments/";

/**
 * What to cut: `lines` are [first, last] line ranges (1-based, inclusive) of `from`, in output
 * order; a range whose first line is past its last is taken in reverse order.
 */
export const FRAGMENTS = [
	{
		name: "victim-runnable-scan",
		from: "go1.24.4-arm64-non-leaf.txt",
		lines: [[132, 142]],
		scenario: "fragment-split-sp-victim",
		expectConfidence: "likely",
		example: "go-arm64-split-sp-epilogue",
		note: "the victim's stanza alone: goroutine 22 [runnable (scan)] preempted in main.big_stack, frame 0x10030 (fp-sp)",
	},
	{
		name: "victim-preempted-scan",
		from: "go1.26.10-arm64-leaf.txt",
		lines: [[138, 146]],
		scenario: "fragment-split-sp-victim",
		expectConfidence: "likely",
		example: "go-arm64-split-sp-epilogue",
		note: "the victim's stanza alone: goroutine 22 [preempted (scan)] preempted in the leaf main.big_stack, frame 0x10010",
	},
	{
		name: "victim-runnable",
		from: "go1.24.4-arm64-non-leaf.txt",
		lines: [[206, 220]],
		scenario: "fragment-split-sp-victim",
		expectConfidence: "possible",
		note: "goroutine 27 [runnable], preempted inside main.big_stack's 0x10030-byte frame but not being scanned",
	},
	{
		name: "victim-function-line-lost",
		from: "go1.24.4-arm64-non-leaf.txt",
		lines: [
			[132, 136],
			[138, 142],
		],
		scenario: "fragment-victim-frame-lost",
		expectConfidence: null,
		note: "the victim's stanza with the function line of its main.big_stack frame lost (line 137): the file line left behind belongs to no function, and the function the goroutine was stopped in is not known",
	},
	{
		name: "victims-from-the-middle",
		from: "go1.24.4-arm64-non-leaf.txt",
		lines: [[126, 158]],
		scenario: "fragment-split-sp-victim",
		expectConfidence: "likely",
		note: "a stretch copied out of the dump: the last frames of goroutine 3, then goroutines 22 and 23 (cut inside 23)",
	},
	{
		name: "victim-next-header-lost",
		from: "go1.24.4-arm64-non-leaf.txt",
		lines: [
			[132, 142],
			[145, 158],
		],
		scenario: "fragment-split-sp-victim",
		expectConfidence: "likely",
		note: "goroutine 22's stanza, then goroutine 23's frames with its header and the blank line before it (143-144) lost: those frames belong to neither goroutine the text names",
	},
	{
		name: "unwinder-header-after-stack",
		from: "go1.21.13-arm64-leaf.txt",
		lines: [
			[5, 20],
			[2, 3],
		],
		scenario: "fragment-split-sp-unwinder",
		expectConfidence: "possible",
		example: "go-arm64-split-sp-epilogue",
		note: "the GC worker's stack (runtime.scanstack -> runtime.(*unwinder).next) with the SIGSEGV header pasted after it",
	},
	{
		name: "unwinder-newest-first",
		from: "go1.24.4-arm64-non-leaf.txt",
		lines: [[26, 2]],
		scenario: "fragment-split-sp-unwinder",
		expectConfidence: "possible",
		example: "go-arm64-split-sp-epilogue",
		note: "the unwinder's report (its runtime lines, the fatal error and the runtime stack) as a log viewer that shows the newest line first pastes it: in reverse order",
	},
	{
		name: "whole-crash-newest-first",
		from: "go1.24.4-arm64-non-leaf.txt",
		lines: [[236, 1]],
		scenario: "fragment-split-sp-unwinder",
		expectConfidence: "likely",
		note: "the whole crash in reverse order, as a log viewer that shows the newest line first pastes it",
	},
	{
		name: "unwinder-fatal-line-lost",
		from: "go1.24.4-arm64-non-leaf.txt",
		lines: [
			[2, 3],
			[5, 27],
			[132, 142],
		],
		scenario: "fragment-split-sp-unwinder",
		expectConfidence: "likely",
		example: "go-arm64-split-sp-epilogue",
		note: "the unwinder's 'runtime: g22: frame.sp=' lines, the runtime stack and the victim's stanza, the 'fatal error: traceback did not unwind completely' line (4) lost",
	},
];

function linesOf(path) {
	const text = readFileSync(new URL(path, root), "utf8");
	return text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
}

/** The text of one fragment and its meta, as the script writes them. */
export function cut(fragment) {
	const all = linesOf(source + fragment.from);
	const lines = fragment.lines.flatMap(([a, b]) =>
		a <= b ? all.slice(a - 1, b) : all.slice(b - 1, a).reverse(),
	);
	const meta = JSON.parse(
		readFileSync(new URL(source + fragment.from.replace(/\.txt$/, ".meta.json"), root), "utf8"),
	);
	return {
		text: `${lines.join("\n")}\n`,
		meta: {
			generator: "scripts/cut-fragments.mjs",
			scenario: fragment.scenario,
			from: source + fragment.from,
			lines: fragment.lines.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)),
			goVersion: meta.goVersion,
			goarch: meta.goarch,
			gotraceback: meta.gotraceback,
			expectConfidence: fragment.expectConfidence,
			note: fragment.note,
		},
	};
}

/** Every file the script writes, by path, with its content. */
export function outputs() {
	const files = new Map();
	const rules = new Map();
	for (const f of FRAGMENTS) {
		const { text, meta } = cut(f);
		files.set(`${out}${f.name}.txt`, text);
		files.set(`${out}${f.name}.meta.json`, `${JSON.stringify(meta, null, "\t")}\n`);
		if (f.example !== undefined) {
			const list = rules.get(f.example) ?? [];
			list.push({
				source: `${out}${f.name}.txt (${meta.from} lines ${meta.lines.join(", ")})`,
				confidence: f.expectConfidence,
				text: text.slice(0, -1).split("\n"),
			});
			rules.set(f.example, list);
		}
	}
	for (const file of ["src/knowledge/rules/compiler.json"]) {
		const doc = JSON.parse(readFileSync(new URL(file, root), "utf8"));
		for (const rule of doc.rules) {
			const examples = rules.get(rule.id);
			if (examples === undefined) continue;
			const kept = rule.examples.match.filter((e) => !e.source?.startsWith(out));
			rule.examples.match = [...kept, ...examples];
		}
		files.set(file, `${JSON.stringify(doc, null, "\t")}\n`);
	}
	return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const check = process.argv.includes("--check");
	let stale = 0;
	for (const [path, content] of outputs()) {
		const url = new URL(path, root);
		let old = null;
		try {
			old = readFileSync(url, "utf8");
		} catch {}
		// The rule file is formatted by Biome after writing: compare what it says, not its layout.
		const same =
			path.endsWith(".json") && path.startsWith("src/") && old !== null
				? JSON.stringify(JSON.parse(old)) === JSON.stringify(JSON.parse(content))
				: old === content;
		if (same) continue;
		stale++;
		if (check) console.error(`${path} differs from what scripts/cut-fragments.mjs writes`);
		else writeFileSync(url, content);
	}
	if (check && stale > 0) process.exit(1);
	if (!check && stale > 0)
		console.log(`wrote ${stale} file(s); then: npx biome check --write src/knowledge/rules`);
}
