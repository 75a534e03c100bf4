import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

// The docs' examples are run, as Go's testable examples are: every code block fenced as
// ```console in README.md and docs/*.md is a shell session, run from the repository's root with
// `gocrash` (and `npx gocrash`) being the built command line, and each command's output (standard
// output and error together) must be what the block shows under it. Blocks whose output depends
// on the moment (a server's ids, timings, this machine) are fenced plainly and not run.
const root = join(import.meta.dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "gocrash-docs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
writeFileSync(
	join(scratch, "gocrash"),
	`#!/bin/sh\nexec "${process.execPath}" "${join(root, "dist/cli/bin.js")}" "$@"\n`,
);
chmodSync(join(scratch, "gocrash"), 0o755);

interface Example {
	readonly command: string;
	readonly output: string;
}

interface Block {
	readonly where: string;
	readonly examples: readonly Example[];
}

/** The ```console blocks of a Markdown file, each split into its commands and their outputs. */
function blocks(file: string): Block[] {
	const lines = readFileSync(join(root, file), "utf8").split("\n");
	const found: Block[] = [];
	for (let i = 0; i < lines.length; i++) {
		if (lines[i] !== "```console") continue;
		const start = i + 1;
		const examples: { command: string; output: string[] }[] = [];
		for (i++; i < lines.length && !(lines[i] as string).startsWith("```"); i++) {
			const line = lines[i] as string;
			if (line.startsWith("$ ")) {
				let command = line.slice(2);
				while (command.endsWith("\\") && i + 1 < lines.length)
					command = `${command.slice(0, -1)}\n${lines[++i] as string}`;
				examples.push({ command, output: [] });
			} else if (examples.length === 0) {
				throw new Error(`${file}:${i + 1}: a console block must start with a $ command`);
			} else examples.at(-1)?.output.push(line);
		}
		found.push({
			where: `${file}:${start}`,
			examples: examples.map((e) => ({ command: e.command, output: e.output.join("\n") })),
		});
	}
	return found;
}

/** Runs a block's commands in one shell, in turn; returns each one's output. */
function run(block: Block): string[] {
	const marker = "\u0000gocrash-docs-example\u0000";
	const script = [
		"exec 2>&1",
		...block.examples.flatMap((e) => [
			`printf '${marker.replaceAll("\u0000", "\\0")}'`,
			e.command.replace(/\bnpx gocrash\b/g, "gocrash"),
		]),
	].join("\n");
	const ran = spawnSync("bash", ["-c", script], {
		cwd: root,
		env: { ...process.env, PATH: `${scratch}:${process.env.PATH ?? ""}`, NO_COLOR: "1" },
		encoding: "utf8",
		maxBuffer: 64 * 1024 * 1024,
	});
	return ran.stdout
		.split(marker)
		.slice(1)
		.map((o) => o.replace(/\n$/, ""));
}

const files = ["README.md", ...readdirSync(join(root, "docs")).map((f) => `docs/${f}`)].filter(
	(f) => f.endsWith(".md"),
);
const all = files.flatMap(blocks);

describe("the docs' console examples", () => {
	test("there are some", () => {
		expect(all.length).toBeGreaterThan(5);
	});
	test.each(all.map((b) => [b.where, b] as const))("%s", (_, block) => {
		const outputs = run(block);
		expect(
			block.examples.map((e, i) => `$ ${e.command}\n${outputs[i] ?? "(not run)"}`).join("\n"),
		).toBe(block.examples.map((e) => `$ ${e.command}\n${e.output}`).join("\n"));
	});
});
