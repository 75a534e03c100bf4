/** The eight heights of a sparkline cell, lowest first. */
const LEVELS = "▁▂▃▄▅▆▇█";
/** The fractions of a bar's last cell, in eighths: one eighth to seven. */
const EIGHTHS = "▏▎▍▌▋▊▉";

/**
 * One cell per value, its height scaled to `max`: `·` for zero, a blank for a missing value, and
 * at least the lowest block for anything above zero, so that one crash never looks like none.
 */
export function sparkline(values: readonly (number | null)[], max: number): string {
	return values
		.map((v) => {
			if (v === null) return " ";
			if (v <= 0 || max <= 0) return "·";
			const level = Math.ceil((Math.min(v, max) / max) * LEVELS.length) - 1;
			return LEVELS[Math.max(0, level)] as string;
		})
		.join("");
}

/** A horizontal bar of `value` against `max` in `width` cells, to an eighth of a cell, padded to `width`. */
export function bar(value: number, max: number, width: number): string {
	if (max <= 0 || value <= 0) return " ".repeat(width);
	const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * width * 8));
	const full = Math.floor(eighths / 8);
	const rest = eighths % 8;
	return `${"█".repeat(full)}${rest === 0 ? "" : EIGHTHS[rest - 1]}`.padEnd(width);
}
