/** Terminal styling: ANSI colours when the output is a terminal and `NO_COLOR` is not set. */
export interface Style {
	bold(text: string): string;
	dim(text: string): string;
	red(text: string): string;
	yellow(text: string): string;
	cyan(text: string): string;
	green(text: string): string;
}

const plain = (text: string): string => text;

/** Picks colours or plain text for an output stream, following https://no-color.org. */
export function styleFor(
	isTTY: boolean | undefined,
	env: Readonly<Record<string, string | undefined>>,
): Style {
	const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
	const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "" && env.FORCE_COLOR !== "0";
	if (noColor || !(isTTY === true || force)) {
		return { bold: plain, dim: plain, red: plain, yellow: plain, cyan: plain, green: plain };
	}
	const wrap = (open: number, close: number) => (text: string) =>
		`\x1b[${open}m${text}\x1b[${close}m`;
	return {
		bold: wrap(1, 22),
		dim: wrap(2, 22),
		red: wrap(31, 39),
		yellow: wrap(33, 39),
		cyan: wrap(36, 39),
		green: wrap(32, 39),
	};
}
