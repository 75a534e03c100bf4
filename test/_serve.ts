import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

/** The built command line, as end-to-end tests run it. */
export const CLI = join(import.meta.dirname, "../dist/cli/bin.js");

/** A `gocrash serve` process: its address once listening, its log lines, and its exit. */
export interface Server {
	readonly process: ChildProcess;
	readonly url: string;
	readonly log: string[];
	/** What it wrote to stderr up to listening (the demo's tokens among it). */
	readonly banner: string;
	exited: Promise<number | null>;
}

/** Starts the built `gocrash serve` on a free loopback port with `args`; resolves once it listens. */
export async function serve(db: string, ...args: string[]): Promise<Server> {
	const child = spawn(
		process.execPath,
		[CLI, "serve", "--db", db, "--listen", "127.0.0.1:0", ...args],
		{ stdio: ["ignore", "pipe", "pipe"] },
	);
	const log: string[] = [];
	child.stdout.on("data", (d: Buffer) =>
		log.push(
			...d
				.toString()
				.split("\n")
				.filter((l) => l !== ""),
		),
	);
	const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
	let err = "";
	const url = await new Promise<string>((done, fail) => {
		child.stderr.on("data", (d: Buffer) => {
			err += d.toString();
			const m = /listening on (http:\/\/[\d.:]+)/.exec(err);
			if (m !== null) done(m[1] as string);
		});
		void exited.then(() => fail(new Error(`gocrash serve exited: ${err}`)));
	});
	return { process: child, url, log, banner: err, exited };
}
