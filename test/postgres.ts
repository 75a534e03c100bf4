import { execFile, spawnSync } from "node:child_process";
import {
	chownSync,
	existsSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./_serve.js";

const run = promisify(execFile);
const BASE = "/usr/lib/postgresql";

/** A PostgreSQL server of the tests' own: a URL to connect to, and how to stop and remove it. */
export interface TestPostgres {
	/** `postgres://USER@127.0.0.1:PORT/gocrash`, trust authentication. */
	readonly url: string;
	/** The temporary directory that holds its data, log and socket; stop removes it. */
	readonly dir: string;
	/** Stops the server (immediate shutdown) and removes its directory; safe to call twice. */
	stop(): Promise<void>;
}

/** How the server's programs are run: as the `postgres` user when we are root, which initdb and postgres refuse. */
interface Runner {
	readonly bin: string;
	readonly user: string;
	readonly owner: { uid: number; gid: number } | null;
	argv(program: string, args: readonly string[]): [string, string[]];
}

function runner(): Runner {
	const versions = existsSync(BASE)
		? readdirSync(BASE)
				.filter((v) => existsSync(join(BASE, v, "bin", "initdb")))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	const newest = versions[0];
	if (newest === undefined)
		throw new Error(
			"PostgreSQL is not installed: the tests start their own server from Debian's postgresql package (apt-get install --no-install-recommends postgresql; .ci/run does it)",
		);
	const bin = join(BASE, newest, "bin");
	if (process.getuid?.() !== 0)
		return { bin, user: userInfo().username, owner: null, argv: (p, a) => [join(bin, p), [...a]] };
	const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
	const uid = id("-u");
	const gid = id("-g");
	if (uid.status !== 0 || gid.status !== 0)
		throw new Error(
			"PostgreSQL refuses to run as root and there is no postgres user to run it as: reinstall Debian's postgresql package, which creates it",
		);
	return {
		bin,
		user: "postgres",
		owner: { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) },
		// runuser (util-linux) switches user without PAM prompts or a login shell.
		argv: (p, a) => ["runuser", ["-u", "postgres", "--", join(bin, p), ...a]],
	};
}

// Servers still running when the test process ends without stopping them (a test failed before
// its afterAll, or vitest tore the worker down): stopped and removed synchronously on exit, or on
// SIGTERM/SIGINT, after which the signal is raised again. A process killed outright leaves its
// directory with the pid of its owner in it, and the next start sweeps it away.
const running = new Map<string, () => void>();
const stopAll = () => {
	for (const stop of running.values()) stop();
};
process.once("exit", stopAll);
for (const signal of ["SIGTERM", "SIGINT"] as const)
	process.once(signal, () => {
		stopAll();
		process.kill(process.pid, signal);
	});

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === "EPERM";
	}
}

function sweepOrphans(r: Runner): void {
	for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith("gocrash-pg-"))) {
		const dir = join(tmpdir(), name);
		const owner = Number(readOwner(dir));
		if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
		const [file, argv] = r.argv("pg_ctl", [
			"-D",
			join(dir, "data"),
			"-m",
			"immediate",
			"-w",
			"stop",
		]);
		if (existsSync(join(dir, "data", "postmaster.pid"))) spawnSync(file, argv, { cwd: tmpdir() });
		rmSync(dir, { recursive: true, force: true });
	}
}

function readOwner(dir: string): string {
	try {
		return readFileSync(join(dir, "owner.pid"), "utf8").trim();
	} catch {
		return "";
	}
}

function lastLine(text: string): string {
	return text.trim().split("\n").at(-1) ?? "";
}

/**
 * Starts a PostgreSQL server in a new temporary directory (initdb without fsync, trust
 * authentication on loopback, its socket inside the directory) on a free port, with a database
 * `gocrash`; as root, initdb and the server run as the `postgres` user.
 */
export async function startPostgres(): Promise<TestPostgres> {
	const r = runner();
	sweepOrphans(r);
	const dir = mkdtempSync(join(tmpdir(), "gocrash-pg-"));
	writeFileSync(join(dir, "owner.pid"), `${process.pid}\n`);
	const data = join(dir, "data");
	const log = join(dir, "server.log");
	if (r.owner !== null) chownSync(dir, r.owner.uid, r.owner.gid);
	const exec = async (program: string, args: readonly string[]): Promise<void> => {
		const [file, argv] = r.argv(program, args);
		try {
			await run(file, argv, { cwd: dir });
		} catch (error) {
			const e = error as { stderr?: string; stdout?: string; message: string };
			const logged = existsSync(log) ? lastLine(readFileSync(log, "utf8")) : "";
			throw new Error(
				`${program} failed: ${logged || lastLine(e.stderr || e.stdout || e.message)}`,
			);
		}
	};
	const stopNow = () => {
		const [file, argv] = r.argv("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
		if (existsSync(join(data, "postmaster.pid"))) spawnSync(file, argv, { cwd: dir });
		rmSync(dir, { recursive: true, force: true });
		running.delete(dir);
	};
	running.set(dir, stopNow);
	try {
		await exec("initdb", [
			"-D",
			data,
			"-U",
			r.user,
			"-A",
			"trust",
			"-E",
			"UTF8",
			"--locale=C",
			"--no-sync",
			"--no-instructions",
		]);
		let port = 0;
		// Another process may take the free port between our look and the server's bind: retry.
		for (let attempt = 1; ; attempt++) {
			port = await freePort();
			const settings = [
				`port=${port}`,
				"listen_addresses=127.0.0.1",
				`unix_socket_directories=${dir}`,
				// The tests kill gocrash, never this server: its own durability is not under test.
				"fsync=off",
				"synchronous_commit=off",
				"full_page_writes=off",
				"max_connections=200",
			];
			try {
				await exec("pg_ctl", [
					"-D",
					data,
					"-l",
					log,
					"-w",
					"-t",
					"60",
					"-o",
					settings.map((s) => `-c ${s}`).join(" "),
					"start",
				]);
				break;
			} catch (error) {
				const inUse =
					existsSync(log) && /could not bind|already in use/.test(readFileSync(log, "utf8"));
				if (!inUse || attempt >= 5) throw error;
			}
		}
		const admin = new pg.Client({ host: "127.0.0.1", port, user: r.user, database: "postgres" });
		await admin.connect();
		try {
			await admin.query("create database gocrash");
		} finally {
			await admin.end();
		}
		let stopped: Promise<void> | null = null;
		return {
			url: `postgres://${r.user}@127.0.0.1:${port}/gocrash`,
			dir,
			// A closure, not a method: callers pass `stop` around on its own.
			stop: () => {
				stopped ??= (async () => {
					try {
						await exec("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
					} finally {
						rmSync(dir, { recursive: true, force: true });
						running.delete(dir);
					}
				})();
				return stopped;
			},
		};
	} catch (error) {
		stopNow();
		throw error;
	}
}
