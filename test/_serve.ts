import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
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

/** Makes a token with the built `gocrash token create`; throws with its error output when it fails. */
export function createToken(db: string, scope: "ingest" | "read", name?: string): string {
	const ran = spawnSync(process.execPath, [
		CLI,
		"token",
		"create",
		"--db",
		db,
		"--scope",
		scope,
		...(name === undefined ? [] : ["--name", name]),
	]);
	if (ran.status !== 0 || ran.stderr.length > 0)
		throw new Error(`gocrash token create failed (${ran.status}): ${ran.stderr.toString()}`);
	return ran.stdout.toString().trim();
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
	return new Promise((done, fail) => {
		const server = createServer();
		server.once("error", fail);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() => done(typeof address === "object" && address !== null ? address.port : 0));
		});
	});
}

/** Calls `check` every 100 ms until it gives a value; throws naming `what` after `ms`. */
export async function waitFor<T>(
	what: string,
	check: () => Promise<T | undefined> | T | undefined,
	ms = 20_000,
): Promise<T> {
	const until = Date.now() + ms;
	for (;;) {
		const found = await check();
		if (found !== undefined) return found;
		if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
		await new Promise((done) => setTimeout(done, 100));
	}
}
