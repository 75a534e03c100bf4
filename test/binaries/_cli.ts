import { PassThrough, Writable } from "node:stream";
import type { Io } from "../../src/cli/_io.js";
import { run } from "../../src/cli/main.js";
import { BINARY_FIXTURES } from "./_fixtures.js";

function collect(add: (text: string) => void): Writable {
	return new Writable({
		write(chunk, _encoding, done) {
			add(String(chunk));
			done();
		},
	});
}

/** Runs `gocrash ARGV...` in the fixture directory and returns exit code and output. */
export async function gocrash(
	...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
	return runGocrash(argv, {});
}

/** Runs `gocrash ARGV...` with `env` (default none) in `cwd` (default the fixture directory). */
export async function runGocrash(
	argv: readonly string[],
	options: { readonly env?: Io["env"]; readonly cwd?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
	let stdout = "";
	let stderr = "";
	const io: Io = {
		stdin: new PassThrough(),
		stdout: collect((t) => {
			stdout += t;
		}),
		stderr: collect((t) => {
			stderr += t;
		}),
		env: options.env ?? {},
		cwd: options.cwd ?? BINARY_FIXTURES,
	};
	const code = await run(argv, io);
	return { code, stdout, stderr };
}
