import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

// The package as users get it: `npm pack` of this checkout (dist/ is built by `npm test` first),
// installed with npm into an empty directory, and every command run from there, so that what the
// tarball lacks (a file left out of "files", a dependency only in devDependencies, the web assets,
// the rules' data) fails here and not on a user's machine.
const root = join(import.meta.dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "gocrash-package-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const run = promisify(execFile);
const app = join(scratch, "app");
const bin = join(app, "node_modules/.bin/gocrash");
const fixture = join(root, "test/fixtures/crashes/go1.24.4-amd64/nil-map-write.txt");

/** Runs the installed gocrash; resolves with its exit code and output. */
function gocrash(
	args: readonly string[],
	input = "",
	env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
	const child = spawn(bin, args, { cwd: app, env: { ...process.env, ...env } });
	let stdout = "";
	let stderr = "";
	child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
	child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
	child.stdin.end(input);
	return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr })));
}

beforeAll(async () => {
	const packed = await run("npm", ["pack", "--ignore-scripts", "--pack-destination", scratch], {
		cwd: root,
	});
	const tarball = join(scratch, packed.stdout.trim().split("\n").at(-1) as string);
	mkdirSync(app);
	writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
	await run("npm", ["install", "--no-audit", "--no-fund", "--omit=dev", tarball], { cwd: app });
}, 600_000);

describe("the packed package, installed with npm", () => {
	test("every command's --help runs", async () => {
		const help = await gocrash(["--help"]);
		expect(help.code).toBe(0);
		const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1] as string);
		expect(commands.length).toBeGreaterThanOrEqual(14);
		for (const command of commands) {
			const ran = await gocrash([command, "--help"]);
			expect({ command, code: ran.code, stderr: ran.stderr }).toEqual({
				command,
				code: 0,
				stderr: "",
			});
			expect(ran.stdout).toMatch(new RegExp(`usage: gocrash ${command}`));
		}
	});

	test("parse and diagnose a crash; host reads this machine", async () => {
		const parsed = await gocrash(["parse", fixture]);
		expect(parsed.code).toBe(0);
		expect(parsed.stdout).toMatch(/panic: assignment to entry in nil map/);
		const diagnosed = await gocrash(["diagnose", "--json", "-"], readFileSync(fixture, "utf8"));
		expect(diagnosed.code).toBe(0);
		expect(JSON.parse(diagnosed.stdout).findings[0].id).toBe("nil-map-write");
		const host = await gocrash(["host", "--json"]);
		expect(host.code).toBe(0);
		expect(JSON.parse(host.stdout)).toHaveProperty("kernel");
	});

	test("serve (SQLite, the dashboard's assets), token, collect and fleet work together", async () => {
		const db = join(scratch, "fleet.db");
		const ingest = (
			await gocrash(["token", "create", "--db", db, "--scope", "ingest"])
		).stdout.trim();
		const read = (await gocrash(["token", "create", "--db", db, "--scope", "read"])).stdout.trim();
		const server = spawn(bin, ["serve", "--db", db, "--listen", "127.0.0.1:0"], { cwd: app });
		try {
			const url = await new Promise<string>((done, fail) => {
				let err = "";
				server.stderr.on("data", (d: Buffer) => {
					err += d.toString();
					const m = /listening on (http:\/\/[\d.:]+)/.exec(err);
					if (m !== null) done(m[1] as string);
				});
				server.on("exit", () => fail(new Error(`gocrash serve exited: ${err}`)));
			});
			const page = await fetch(`${url}/`);
			expect(page.status).toBe(200);
			expect(await page.text()).toMatch(/<script[^>]+src=/);
			const sent = await gocrash(
				[
					"collect",
					"-",
					"--once",
					"--server",
					url,
					"--state",
					join(scratch, "state"),
					"--pickup",
					join(scratch, "none"),
				],
				readFileSync(fixture, "utf8"),
				{ GOCRASH_TOKEN: ingest },
			);
			expect(sent.stderr).toMatch(/done: 1 report sent/);
			const buckets = await gocrash(["fleet", "buckets", "--server", url, "--token", read]);
			expect(buckets.code).toBe(0);
			expect(buckets.stdout).toMatch(/nil-map-write \(confirmed\)/);
		} finally {
			server.kill("SIGTERM");
		}
	});
});
