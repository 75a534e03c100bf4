import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Readable } from "node:stream";

/** The built command line, as end-to-end tests run it. */
export const CLI = join(import.meta.dirname, "../dist/cli/bin.js");

/** Child processes started here, killed if a test leaves them running. */
const running: ChildProcess[] = [];
process.on("exit", () => {
	for (const child of running) if (child.exitCode === null) child.kill("SIGKILL");
});

/** The non-empty lines a stream gives, as they come. */
function linesOf(stream: Readable): string[] {
	const lines: string[] = [];
	stream.on("data", (d: Buffer) =>
		lines.push(
			...d
				.toString()
				.split("\n")
				.filter((l) => l !== ""),
		),
	);
	return lines;
}

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
	running.push(child);
	const log = linesOf(child.stdout);
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

/** A running `gocrash collect`: its log so far, and its exit. */
export interface Collector {
	readonly process: ChildProcess;
	readonly log: string[];
	readonly exited: Promise<number | null>;
}

/** Starts the built `gocrash collect` with `args`, `env` added to this process's environment. */
export function startCollect(args: readonly string[], env: Record<string, string>): Collector {
	const child = spawn(process.execPath, [CLI, "collect", ...args], {
		stdio: ["ignore", "pipe", "pipe"],
		env: { ...process.env, ...env },
	});
	running.push(child);
	const log = linesOf(child.stderr);
	const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
	return { process: child, log, exited };
}

/** A stored crash as `GET /api/v1/crashes/ID` gives it (the fields the tests look at). */
export interface StoredCrash {
	readonly id: string;
	readonly kind: string;
	readonly time: string;
	readonly bucket: string;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly text: string;
	readonly attributes: Record<string, string | string[]>;
}

/** Every crash the server at `url` holds, in full. */
export async function storedCrashes(url: string, read: string): Promise<StoredCrash[]> {
	const get = async (path: string) => {
		const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${read}` } });
		if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
		return res.json() as Promise<unknown>;
	};
	const { crashes } = (await get("/api/v1/crashes?limit=1000&from=0")) as {
		crashes: { id: string }[];
	};
	return Promise.all(
		crashes.map(async ({ id }) => (await get(`/api/v1/crashes/${id}`)) as StoredCrash),
	);
}
