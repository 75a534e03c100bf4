import type { Command, Io } from "./_io.js";
import { InputError, UsageError } from "./_io.js";

// Each command is loaded when it runs: loading every one costs a fifth of the start-up time.
const commands: Readonly<Record<string, () => Promise<Command>>> = {
	parse: async () => (await import("./parse.js")).parseCommand,
	scan: async () => (await import("./scan.js")).scanCommand,
	disasm: async () => (await import("./disasm.js")).disasmCommand,
	symbolize: async () => (await import("./symbolize.js")).symbolizeCommand,
	core: async () => (await import("./core.js")).coreCommand,
	diagnose: async () => (await import("./diagnose.js")).diagnoseCommand,
	host: async () => (await import("./host.js")).hostCommand,
	reproduce: async () => (await import("./reproduce.js")).reproduceCommand,
	serve: async () => (await import("./serve/index.js")).serveCommand,
	token: async () => (await import("./token.js")).tokenCommand,
	alert: async () => (await import("./alert.js")).alertCommand,
	rebucket: async () => (await import("./rebucket.js")).rebucketCommand,
	fleet: async () => (await import("./fleet.js")).fleetCommand,
	collect: async () => (await import("./collect/index.js")).collectCommand,
};

async function formatHelp(): Promise<string> {
	const all = await Promise.all(Object.values(commands).map((load) => load()));
	const width = Math.max(...all.map((c) => c.name.length));
	const lines = all.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
	return `usage: gocrash <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun 'gocrash <command> --help' for a command's options.\n`;
}

/** Runs the gocrash command line with `argv` (without node and script) and returns the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
	const [name, ...rest] = argv;
	if (name === undefined || name === "help" || name === "--help" || name === "-h") {
		(name === undefined ? io.stderr : io.stdout).write(await formatHelp());
		return name === undefined ? 2 : 0;
	}
	const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
	if (load === undefined) {
		io.stderr.write(`gocrash: unknown command '${name}'\n${await formatHelp()}`);
		return 2;
	}
	const command = await load();
	if (rest.includes("--help") || rest.includes("-h")) {
		io.stdout.write(command.usage);
		return 0;
	}
	try {
		return await command.run(rest, io);
	} catch (error) {
		return reportError(command, error, io);
	}
}

function reportError(command: Command, error: unknown, io: Io): number {
	if (error instanceof UsageError || isParseArgsError(error)) {
		io.stderr.write(`gocrash ${command.name}: ${(error as Error).message}\n${command.usage}`);
		return 2;
	}
	if (error instanceof InputError) {
		io.stderr.write(`gocrash ${command.name}: ${error.message}\n`);
		return 1;
	}
	if (isSystemError(error)) {
		io.stderr.write(`gocrash ${command.name}: ${describeSystemError(error)}\n`);
		return 1;
	}
	const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
	io.stderr.write(`gocrash ${command.name}: internal error (please report): ${message}\n`);
	return 70;
}

interface SystemError extends Error {
	code: string;
	path?: string;
	syscall?: string;
}

function isSystemError(error: unknown): error is SystemError {
	return error instanceof Error && typeof (error as Partial<SystemError>).code === "string";
}

function isParseArgsError(error: unknown): boolean {
	return isSystemError(error) && error.code.startsWith("ERR_PARSE_ARGS_");
}

function describeSystemError(error: SystemError): string {
	const where = error.path === undefined ? "" : `${error.path}: `;
	const what: Record<string, string> = {
		ENOENT: "no such file or directory",
		EACCES: "permission denied",
		EISDIR: "is a directory, not a file",
		EPIPE: "output closed",
	};
	return `${where}${what[error.code] ?? error.message}`;
}
