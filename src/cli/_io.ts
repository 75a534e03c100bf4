import type { Readable, Writable } from "node:stream";
import { type ParseArgsConfig, parseArgs } from "node:util";

/** The outside world a command may touch: streams, environment and working directory. */
export interface Io {
	readonly stdin: Readable;
	readonly stdout: Writable & { readonly isTTY?: boolean };
	readonly stderr: Writable;
	readonly env: Readonly<Record<string, string | undefined>>;
	readonly cwd: string;
}

/** One `gocrash` sub-command: its name, a one-line summary, usage text and entry point. */
export interface Command {
	readonly name: string;
	readonly summary: string;
	readonly usage: string;
	run(args: readonly string[], io: Io): Promise<number>;
}

/** A mistake in how the command was called; printed as one line, exit code 2. */
export class UsageError extends Error {
	override readonly name = "UsageError";
}

/** A failure caused by the input (unreadable file, bad bytes); printed as one line, exit code 1. */
export class InputError extends Error {
	override readonly name = "InputError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Reads a command's arguments: the given options, anything else positional. */
export function parseCommandArgs<const O extends Options>(
	args: readonly string[],
	options: O,
): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>> {
	return parseArgs({ args: [...args], allowPositionals: true, options });
}

/** A whole-number option's value, `fallback` when it is not given. */
export function wholeNumberOption(
	name: string,
	value: string | undefined,
	fallback: number,
): number {
	if (value === undefined) return fallback;
	if (!/^\d{1,12}$/.test(value))
		throw new UsageError(`--${name}: '${value}' is not a whole number`);
	return Number(value);
}
