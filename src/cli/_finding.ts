import type { Finding } from "../diagnose/index.js";
import type { Style } from "./_style.js";

/** A finding as the command line shows it: confidence, id and title, evidence, what to do, fixes. */
export function formatFinding(f: Finding, style: Style, explain: boolean): string {
	const colour =
		f.confidence === "confirmed"
			? style.red
			: f.confidence === "likely"
				? style.yellow
				: style.cyan;
	const lines = [`${colour(f.confidence.toUpperCase().padEnd(9))} ${style.bold(f.id)}: ${f.title}`];
	if (explain) lines.push(`  ${f.explanation}`);
	lines.push(style.dim("  evidence:"));
	for (const e of f.evidence) lines.push(`    - ${e}`);
	for (const u of f.unknowns) lines.push(`    ? ${u}`);
	const todo = [...f.steps, ...f.workarounds.filter((w) => !f.steps.includes(w))];
	const shown = explain ? todo : todo.slice(0, 3);
	if (shown.length > 0) lines.push(style.dim("  what to do:"));
	for (const t of shown) lines.push(`    - ${t}`);
	if (shown.length < todo.length)
		lines.push(style.dim(`    (${todo.length - shown.length} more with --explain)`));
	if (f.fixedIn.length > 0) lines.push(`  ${style.dim("fixed in:")} ${f.fixedIn.join(", ")}`);
	if (f.references.length > 0) lines.push(`  ${style.dim("see:")} ${f.references.join(", ")}`);
	return lines.join("\n");
}
