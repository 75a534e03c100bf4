import { stripVTControlCharacters } from "node:util";

/** How wide a cell shows: colour escapes take no room. */
const shown = (cell: string): number => stripVTControlCharacters(cell).length;

/** Lines of cells in columns: each cell padded to its column's widest, two spaces apart, the last as it is. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
	const widths: number[] = [];
	for (const r of rows)
		r.forEach((cell, i) => {
			widths[i] = Math.max(widths[i] ?? 0, shown(cell));
		});
	return rows.map((r) =>
		r
			.map((cell, i) =>
				i === r.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - shown(cell)),
			)
			.join("  ")
			.trimEnd(),
	);
}
