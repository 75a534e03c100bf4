// A stack that a logger wrote as one line, its newlines and tabs escaped, is read line by line.
// Only lines that classify as other text are looked at (see CrashScanner#line): a runtime report
// line, whose value may quote such a stack, is read as printed.

/** Shortest line that such a stack is looked for in. */
const MIN_ESCAPED = 40;
/** A goroutine header, or a frame's file line, written with escaped newlines and tabs. */
const ESCAPED_STACK =
	/goroutine \d{1,20} \[[^\]\\]{1,100}\]:\\n|\\n\\t\/[^\\]{1,500}:\d{1,10} \+0x/;
const ESCAPE = /\\(["\\/nrt]|u[0-9a-fA-F]{4})/g;

/**
 * The lines of a stack that a logger wrote as one line, its newlines and tabs escaped (a JSON
 * field holding debug.Stack(), a %q): `stack="goroutine 7 [running]:\nmain.f()\n\t/app/f.go:9 +0x1d\n"`.
 * Null when `line` holds none.
 */
export function escapedLines(line: string): string[] | null {
	if (line.length < MIN_ESCAPED || !line.includes("\\n") || !ESCAPED_STACK.test(line)) return null;
	return line
		.replace(ESCAPE, (_, c: string) =>
			c === "n"
				? "\n"
				: c === "t"
					? "\t"
					: c === "r"
						? ""
						: c.length === 5
							? String.fromCharCode(Number.parseInt(c.slice(1), 16))
							: c,
		)
		.split("\n");
}
