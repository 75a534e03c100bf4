import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PostgreSQL server of the tests' own: a URL to connect to, and how to stop and remove it. */
export interface TestPostgres {
	readonly url: string;
	/** The directory that holds its data, removed by stop. */
	readonly dir: string;
	stop(): Promise<void>;
}

/** The newest Debian PostgreSQL installed, or a one-line error that says what to install. */
function postgresBin(): string {
	const base = "/usr/lib/postgresql";
	const versions = existsSync(base)
		? readdirSync(base)
				.filter((v) => existsSync(join(base, v, "bin", "initdb")))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	const newest = versions[0];
	if (newest === undefined)
		throw new Error(
			"PostgreSQL is not installed: apt-get install postgresql (the tests start their own server)",
		);
	return join(base, newest, "bin");
}

async function freePort(): Promise<number> {
	return new Promise((done, fail) => {
		const s = createServer();
		s.once("error", fail);
		s.listen(0, "127.0.0.1", () => {
			const address = s.address();
			s.close(() => done(typeof address === "object" && address !== null ? address.port : 0));
		});
	});
}

/**
 * Starts a PostgreSQL server in a new temporary directory, on a free loopback port, with trust
 * authentication and a database `gocrash`. As root, the server runs as the `postgres` user, since
 * PostgreSQL refuses to run as root.
 */
export async function startPostgres(): Promise<TestPostgres> {
	const bin = postgresBin();
	const dir = mkdtempSync(join(tmpdir(), "gocrash-pg-"));
	const data = join(dir, "data");
	const asRoot = process.getuid?.() === 0;
	const user = asRoot ? "postgres" : (process.env.USER ?? "postgres");
	if (asRoot) {
		const ids = execFileSync("id", ["-u", "postgres"]).toString().trim();
		const gid = execFileSync("id", ["-g", "postgres"]).toString().trim();
		chownSync(dir, Number(ids), Number(gid));
	}
	const run = (command: string, args: readonly string[]): string => {
		const [file, argv] = asRoot
			? ["runuser", ["-u", "postgres", "--", join(bin, command), ...args]]
			: [join(bin, command), args];
		const ran = spawnSync(file, argv, { encoding: "utf8", cwd: dir });
		if (ran.status !== 0)
			throw new Error(
				`${command} failed (${ran.status}): ${(ran.stderr || ran.stdout).trim().split("\n").at(-1)}`,
			);
		return ran.stdout;
	};
	const port = await freePort();
	try {
		run("initdb", ["-D", data, "-U", user, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
		writeFileSync(
			join(data, "postgresql.auto.conf"),
			[
				`port = ${port}`,
				"listen_addresses = '127.0.0.1'",
				`unix_socket_directories = '${dir}'`,
				// The tests kill gocrash, never this server: its own durability is not under test.
				"fsync = off",
				"synchronous_commit = off",
				"full_page_writes = off",
				"max_connections = 200",
				"",
			].join("\n"),
		);
		if (asRoot) execFileSync("chown", ["postgres:postgres", join(data, "postgresql.auto.conf")]);
		run("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
		run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", user, "gocrash"]);
	} catch (error) {
		spawnSync(
			asRoot ? "runuser" : join(bin, "pg_ctl"),
			asRoot
				? ["-u", "postgres", "--", join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop"]
				: ["-D", data, "-m", "immediate", "stop"],
		);
		rmSync(dir, { recursive: true, force: true });
		throw error;
	}
	let stopped = false;
	return {
		url: `postgres://${user}@127.0.0.1:${port}/gocrash`,
		dir,
		async stop() {
			if (stopped) return;
			stopped = true;
			try {
				run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
			} finally {
				rmSync(dir, { recursive: true, force: true });
			}
		},
	};
}
