import { spawnSync } from "node:child_process";
import {
	appendFileSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	truncateSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { bucketOf, cri, fixture, logLines } from "./_logs.js";
import {
	CLI,
	freePort,
	type Server,
	serve,
	startCollect,
	storedCrashes,
	createToken as token,
	waitFor,
} from "./_serve.js";

const scratch = mkdtempSync(join(tmpdir(), "gocrash-collect-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** Runs `gocrash collect ARGS --once` with a state directory and no Go client spool. */
function collectOnce(url: string, dir: string, ingest: string, args: string[], input = "") {
	return spawnSync(
		process.execPath,
		[
			CLI,
			"collect",
			...args,
			"--once",
			"--server",
			url,
			"--state",
			dir,
			"--pickup",
			join(dir, "none"),
		],
		{ input, env: { ...process.env, GOCRASH_TOKEN: ingest } },
	);
}

// `gocrash collect` against a real `gocrash serve`: both are the built command line, run as
// processes, killed and restarted in the middle; the crash texts are the generator's fixtures.
describe("gocrash collect", () => {
	test("files (rotated, truncated), CRI logs and the Go client's spool reach the server once each, through a server outage and a collector killed with SIGKILL", async () => {
		const db = join(scratch, "fleet.db");
		const ingest = token(db, "ingest");
		const read = token(db, "read");
		const port = await freePort();
		const url = `http://127.0.0.1:${port}`;
		let server: Server = await serve(db, "--listen", `127.0.0.1:${port}`);
		const logs = join(scratch, "logs");
		const pods = join(
			scratch,
			"var/log/pods/shop_cart-7d9f_0b1c2d3e-aaaa-bbbb-cccc-1234567890ab/cart",
		);
		const pickup = join(scratch, "client-spool");
		const state = join(scratch, "state");
		mkdirSync(logs);
		mkdirSync(pods, { recursive: true });
		const args = [
			join(logs, "*.log"),
			join(scratch, "var/log/pods/*/*/*.log"),
			"--server",
			url,
			"--state",
			state,
			"--pickup",
			pickup,
			"--attr",
			"region=eu-west",
			"--host",
			"node-7",
			"--quiet",
			"1",
			"--heartbeat",
			"1",
			// The files may be there at the first look: read them whole, not from their end.
			"--from-start",
		];
		const env = { GOCRASH_TOKEN: ingest };
		let collector = startCollect(args, env);
		const sent: Record<string, string> = {};
		const write = (path: string, name: string, text: string = fixture(name)) => {
			appendFileSync(path, text);
			sent[name] = bucketOf(fixture(name));
		};
		await waitFor("the collector to start", () =>
			collector.log.some((l) => l.includes("following")) || collector.log.length > 0
				? true
				: undefined,
		);

		// A crash between log lines, in a file created after the collector started.
		const app = join(logs, "app.log");
		write(
			app,
			"nil-map-write",
			logLines(5, "start") + fixture("nil-map-write") + logLines(3, "after"),
		);
		await waitFor("the first crash", async () =>
			(await storedCrashes(url, read)).length === 1 ? true : undefined,
		);

		// Rotation: the old file is renamed away (no longer matched) and written once more;
		// then a new file under the old name.
		renameSync(app, join(logs, "app.log.1"));
		write(join(logs, "app.log.1"), "close-closed-channel");
		write(app, "divide-by-zero", logLines(2, "new file") + fixture("divide-by-zero"));
		// copytruncate: the file is emptied and written again from its start.
		const other = join(logs, "other.log");
		write(other, "custom-error", logLines(100, "filler") + fixture("custom-error"));
		await waitFor("four crashes", async () =>
			(await storedCrashes(url, read)).length === 4 ? true : undefined,
		);
		truncateSync(other, 0);
		write(other, "panic-errorf");
		// A pod's container log, as the kubelet writes it.
		write(join(pods, "0.log"), "index-out-of-range", cri(fixture("index-out-of-range")));
		await waitFor("six crashes", async () =>
			(await storedCrashes(url, read)).length === 6 ? true : undefined,
		);

		// The server goes away: a crash waits in the spool; the collector is killed; a crash is
		// written while it is down; both arrive once the two are back.
		server.process.kill("SIGTERM");
		await server.exited;
		write(app, "type-assertion");
		await waitFor("a spooled report", () =>
			collector.log.some((l) => l.startsWith("gocrash collect: cannot send")) ? true : undefined,
		);
		collector.process.kill("SIGKILL");
		await collector.exited;
		write(app, "slice-bounds");
		mkdirSync(pickup);
		const goClient = {
			text: fixture("nil-pointer"),
			kind: "fatal",
			time: "2026-12-04T06:20:00Z",
			host: "node-7",
			service: "billing",
			version: "4.2.0",
			attributes: { goVersion: "go1.24.4" },
			idempotencyKey: "client-spooled-1",
		};
		writeFileSync(join(pickup, "client-spooled-1.json"), JSON.stringify(goClient));
		sent["nil-pointer"] = bucketOf(goClient.text);
		collector = startCollect(args, env);
		await new Promise((done) => setTimeout(done, 1500));
		server = await serve(db, "--listen", `127.0.0.1:${port}`);
		const all = await waitFor("nine crashes", async () => {
			const found = await storedCrashes(url, read);
			return found.length >= 9 ? found : undefined;
		});
		// Nothing more arrives later: no crash was sent twice.
		await new Promise((done) => setTimeout(done, 2500));
		const final = await storedCrashes(url, read);
		expect(final.length).toBe(9);
		expect(new Set(all.map((c) => c.bucket))).toEqual(new Set(Object.values(sent)));
		for (const crash of final.filter((c) => c.service !== "billing")) {
			expect(crash.host).toBe("node-7");
			expect(crash.attributes.region).toBe("eu-west");
			expect(crash.attributes.goarch).toMatch(/^(amd64|arm64)$/);
			expect(crash.attributes.kernel).toBeTruthy();
		}
		const pod = final.find((c) => c.bucket === sent["index-out-of-range"]);
		expect(pod?.service).toBe("cart");
		expect(pod?.attributes["k8s.namespace.name"]).toBe("shop");
		expect(pod?.attributes["k8s.pod.name"]).toBe("cart-7d9f");
		expect(pod?.attributes["k8s.container.name"]).toBe("cart");
		expect(existsSync(join(pickup, "client-spooled-1.json"))).toBe(false);
		expect(readdirSync(join(state, "spool")).filter((n) => n.endsWith(".json"))).toEqual([]);

		// Heartbeats: the host is counted in the fleet's host-hours.
		const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
		const rates = await fetch(`${url}/api/v1/rates?from=${hourAgo}`, {
			headers: { authorization: `Bearer ${read}` },
		});
		expect(JSON.stringify(await rates.json())).toMatch(/"hostHours":[1-9]/);

		collector.process.kill("SIGTERM");
		expect(await collector.exited).toBe(0);
		server.process.kill("SIGTERM");
		await server.exited;
	}, 120_000);

	test("a crash at the end of a file is sent after the quiet period, marked truncated when it stops mid-way", async () => {
		const db = join(scratch, "quiet.db");
		const ingest = token(db, "ingest");
		const read = token(db, "read");
		const server = await serve(db);
		const dir = join(scratch, "quiet");
		mkdirSync(dir);
		const collector = startCollect(
			[
				join(dir, "*.log"),
				"--server",
				server.url,
				"--state",
				join(dir, "state"),
				"--pickup",
				join(dir, "none"),
				"--quiet",
				"1",
				"--heartbeat",
				"0",
				// The collector's first look may come after the file is written (a busy machine).
				"--from-start",
			],
			{ GOCRASH_TOKEN: ingest },
		);
		await waitFor("the collector to start", () => (collector.log.length > 0 ? true : undefined));
		const lines = fixture("nil-map-write").split("\n");
		const cut = lines.findIndex((l) => l.startsWith("main.")) + 1;
		writeFileSync(join(dir, "a.log"), `${lines.slice(0, cut).join("\n")}\n`);
		const [crash] = await waitFor("the crash", async () => {
			const found = await storedCrashes(server.url, read);
			return found.length > 0 ? found : undefined;
		});
		expect(crash?.attributes.truncated).toBe("true");
		collector.process.kill("SIGTERM");
		expect(await collector.exited).toBe(0);
		server.process.kill("SIGTERM");
		await server.exited;
	});

	test("--once with the server away: the spool keeps what fits, drops the oldest with a count, exits 1", async () => {
		const dir = join(scratch, "full");
		mkdirSync(dir);
		const dump = fixture("many-goroutines.all");
		writeFileSync(
			join(dir, "big.log"),
			Array.from({ length: Math.ceil((1.5 * 1024 * 1024) / dump.length) }, () => dump).join(
				logLines(2, "between"),
			),
		);
		const port = await freePort();
		const collector = startCollect(
			[
				join(dir, "big.log"),
				"--once",
				"--server",
				`http://127.0.0.1:${port}`,
				"--state",
				join(dir, "state"),
				"--pickup",
				join(dir, "none"),
				"--spool-max",
				"1",
				"--retry-for",
				"2",
			],
			{ GOCRASH_TOKEN: "gct_ingest_none" },
		);
		expect(await collector.exited).toBe(1);
		expect(collector.log.join("\n")).toMatch(
			/the spool .* is full \(1 MiB\): dropped the oldest \d+ reports?/,
		);
		expect(collector.log.join("\n")).toMatch(
			/cannot send to http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
		);
		const spooled = readdirSync(join(dir, "state/spool")).filter((n) => n.endsWith(".json"));
		expect(spooled.length).toBeGreaterThan(5);
		const bytes = spooled.reduce(
			(n, name) => n + readFileSync(join(dir, "state/spool", name)).length,
			0,
		);
		expect(bytes).toBeLessThanOrEqual(1024 * 1024);
	});

	test("standard input with --once: every report sent, exit 0; the same text sent again is stored once", async () => {
		const db = join(scratch, "stdin.db");
		const ingest = token(db, "ingest");
		const read = token(db, "read");
		const server = await serve(db);
		const dir = join(scratch, "stdin");
		const text = logLines(3, "x") + fixture("deadlock") + logLines(50, "y") + fixture("race-map");
		const run = collectOnce(server.url, dir, ingest, ["-"], text);
		expect(run.stderr.toString()).toMatch(/done: 2 reports sent/);
		expect(run.status).toBe(0);
		expect((await storedCrashes(server.url, read)).length).toBe(2);
		const again = collectOnce(server.url, dir, ingest, ["-"], text);
		// Standard input has no positions: the same text read again is the same reports, and the
		// server stores each once.
		expect(again.stderr.toString()).toMatch(/\(already stored\)/);
		expect((await storedCrashes(server.url, read)).length).toBe(2);
		server.process.kill("SIGTERM");
		await server.exited;
	});

	test("--journal: each unit's process is its own stream; a second run goes on after the saved cursor; --unit filters", async () => {
		const db = join(scratch, "journal.db");
		const ingest = token(db, "ingest");
		const read = token(db, "read");
		const server = await serve(db);
		const dir = join(scratch, "journal");
		const journalDir = join(dir, "journal");
		mkdirSync(journalDir, { recursive: true });
		let entries = 0;
		/** Journal export format: one entry per line, as journald stores a process's stderr. */
		const entry = (unit: string, pid: number, message: string): string => {
			entries++;
			return [
				`__REALTIME_TIMESTAMP=${1_764_828_000_000_000 + entries * 1000}`,
				`__MONOTONIC_TIMESTAMP=${entries}`,
				"_BOOT_ID=0123456789abcdef0123456789abcdef",
				"_HOSTNAME=web-1",
				`_SYSTEMD_UNIT=${unit}`,
				`_PID=${pid}`,
				`MESSAGE=${message}`,
				"",
				"",
			].join("\n");
		};
		const lines = (text: string) => text.trimEnd().split("\n");
		/** Appends entries to the journal file, through Debian's systemd-journal-remote. */
		const journal = (export_: string) => {
			const file = join(dir, `${entries}.export`);
			writeFileSync(file, export_);
			const ran = spawnSync("bash", [
				new URL("../scripts/journal-remote.sh", import.meta.url).pathname,
				`--output=${join(journalDir, "remote.journal")}`,
				file,
			]);
			expect(ran.status, ran.stderr.toString()).toBe(0);
		};
		const run = (...more: string[]) => {
			const ran = collectOnce(server.url, dir, ingest, [
				"--journal",
				"--journal-dir",
				journalDir,
				...more,
			]);
			expect(ran.status, ran.stderr.toString()).toBe(0);
			return ran.stderr.toString();
		};

		// billing's crash and api's crash line by line in turn, with a third unit's lines between.
		const billing = lines(fixture("nil-map-write"));
		const api = lines(fixture("divide-by-zero"));
		let first = "";
		for (let i = 0; i < Math.max(billing.length, api.length); i++) {
			if (i < billing.length) first += entry("billing.service", 42, billing[i] as string);
			if (i % 3 === 0) first += entry("cron.service", 7, `job ${i} finished`);
			if (i < api.length) first += entry("api.service", 9, api[i] as string);
		}
		journal(first);
		expect(run()).toMatch(/done: 2 reports sent/);
		const crashes = await storedCrashes(server.url, read);
		expect(crashes.map((c) => [c.service, c.bucket, c.host]).sort()).toEqual(
			[
				["api", bucketOf(fixture("divide-by-zero")), "web-1"],
				["billing", bucketOf(fixture("nil-map-write")), "web-1"],
			].sort(),
		);
		expect(crashes.map((c) => c.attributes["systemd.unit"]).sort()).toEqual([
			"api.service",
			"billing.service",
		]);

		// Nothing new: nothing sent again.
		expect(run()).toMatch(/done: 0 reports sent/);
		// New entries: only the new crashes, and with --unit only that unit's.
		journal(
			[
				...lines(fixture("index-out-of-range")).map((l) => entry("billing.service", 43, l)),
				...lines(fixture("custom-error")).map((l) => entry("api.service", 9, l)),
			].join(""),
		);
		expect(run("--unit", "billing.service")).toMatch(/done: 1 report sent/);
		const after = await storedCrashes(server.url, read);
		expect(after.length).toBe(3);
		expect(after.map((c) => c.bucket)).toContain(bucketOf(fixture("index-out-of-range")));
		server.process.kill("SIGTERM");
		await server.exited;
	});

	test("bad usage is one line and exit code 2", () => {
		for (const [args, message] of [
			[["a.log"], /no token: pass --token or set GOCRASH_TOKEN/],
			[["a.log", "--token", "t", "--attr", "region"], /--attr: 'region' is not NAME=VALUE/],
			[["a.log", "--token", "t", "--server", "ftp://x"], /--server: 'ftp:\/\/x' is not an http/],
			[["--token", "t"], /name at least one file, glob or -/],
			[["a.log", "--token", "t", "--unit", "x.service"], /--unit needs --journal/],
		] as const) {
			const run = spawnSync(process.execPath, [CLI, "collect", ...args], {
				env: { PATH: process.env.PATH ?? "" },
			});
			expect(run.status).toBe(2);
			expect(run.stderr.toString().split("\n")[0]).toMatch(message);
		}
	});
});
