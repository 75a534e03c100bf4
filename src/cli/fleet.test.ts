import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGocrash } from "../../test/binaries/_cli.js";
import { SIGNATURE_VERSION } from "../fleet/index.js";
import { createServer, newToken } from "../server/index.js";
import type { Store } from "../store/index.js";
import { openSqliteStore } from "../store/sqlite/index.js";
import { builtinRulesDir, loadRules } from "./diagnose.js";

// A real fleet service on a loopback port, over a temporary SQLite store, fed real crash texts.
const FIXTURES = new URL("../../test/fixtures/", import.meta.url);
const fixture = (path: string): string => readFileSync(new URL(path, FIXTURES), "utf8");
const SPLIT = fixture("diagnose/split-sp/go1.24.4-arm64-non-leaf.txt");
const NIL = fixture("crashes/go1.24.4-arm64/nil-pointer.crash.txt");
const MAP = fixture("crashes/go1.26.10-amd64/concurrent-map-writes.txt");

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 3, 12);
const iso = (t: number): string => new Date(t).toISOString();

const dir = mkdtempSync(join(tmpdir(), "gocrash-fleet-cli-"));
let store: Store;
let app: FastifyInstance;
let server = "";
let read = "";
let ingest = "";

interface Sent {
	readonly text: string;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly hoursAgo: number;
	readonly kind?: "recovered";
}

/** The reports: split-SP crashes on arm64 hosts (back in edge 1.2.0 after 1.1.0 had none), and others. */
const SENT: Sent[] = [
	{ text: SPLIT, host: "arm-1", service: "edge", version: "1.0.0", hoursAgo: 60 },
	{ text: MAP, host: "amd-1", service: "edge", version: "1.1.0", hoursAgo: 50 },
	...[1, 2, 3, 4, 5, 6, 1, 2].map((n, i) => ({
		text: SPLIT,
		host: `arm-${n}`,
		service: "edge",
		version: "1.2.0",
		hoursAgo: 30 - 3 * i,
	})),
	...[1, 2, 3, 4, 1, 2].map((n, i) => ({
		text: MAP,
		host: `amd-${n}`,
		service: "auth",
		version: "2.0.0",
		hoursAgo: 40 - 5 * i,
	})),
	...[1, 2, 3].map((n, i) => ({
		text: NIL,
		host: `arm-${n}`,
		service: "auth",
		version: "2.0.0",
		hoursAgo: 20 - 4 * i,
	})),
	{ text: NIL, host: "arm-1", service: "auth", version: "2.0.0", hoursAgo: 5, kind: "recovered" },
];

async function api(path: string, token = read): Promise<{ status: number; text: string }> {
	const res = await fetch(`${server}${path}`, { headers: { authorization: `Bearer ${token}` } });
	return { status: res.status, text: await res.text() };
}

async function post(path: string, body: unknown): Promise<unknown> {
	const res = await fetch(`${server}${path}`, {
		method: "POST",
		headers: { authorization: `Bearer ${ingest}`, "content-type": "application/json" },
		body: JSON.stringify(body),
	});
	expect(res.status, await res.clone().text()).toBeLessThan(300);
	return res.json();
}

const ids: { bucket: Record<string, string>; crash: string[] } = { bucket: {}, crash: [] };

beforeAll(async () => {
	store = await openSqliteStore(join(dir, "gocrash.db"));
	const { rules } = await loadRules([builtinRulesDir]);
	app = createServer({ store, rules, now: () => NOW, alerts: false });
	const r = newToken("read", "fleet-cli-read", NOW);
	const i = newToken("ingest", "fleet-cli-ingest", NOW);
	await store.createToken(r.record);
	await store.createToken(i.record);
	read = r.secret;
	ingest = i.secret;
	server = await app.listen({ host: "127.0.0.1", port: 0 });
	for (const s of SENT) {
		const answer = (await post("/api/v1/crashes", {
			text: s.text,
			host: s.host,
			service: s.service,
			version: s.version,
			kind: s.kind ?? "fatal",
			time: iso(NOW - s.hoursAgo * HOUR),
			attributes: { region: s.host.startsWith("arm") ? "eu-west" : "us-east" },
		})) as { crashes: { id: string; bucket: string }[] };
		for (const c of answer.crashes) {
			ids.crash.push(c.id);
			ids.bucket[s.text === SPLIT ? "split" : s.text === MAP ? "map" : "nil"] = c.bucket;
		}
	}
	// Every host says it is alive every hour of the last three days.
	const hosts = ["arm-1", "arm-2", "arm-3", "arm-4", "arm-5", "arm-6", "amd-1", "amd-2", "amd-3"];
	const heartbeats = [];
	for (let h = 0; h < 72; h++)
		for (const host of hosts)
			heartbeats.push({
				host,
				time: iso(NOW - h * HOUR - 60_000),
				attributes: {
					goarch: host.startsWith("arm") ? "arm64" : "amd64",
					region: host.startsWith("arm") ? "eu-west" : "us-east",
				},
			});
	await post("/api/v1/heartbeats", { heartbeats });
	// A host with more crashes than one page holds, three weeks ago (outside the default window).
	for (let i = 0; i < 11; i++)
		await post("/api/v1/crashes", {
			text: Array.from({ length: 100 }, () => MAP).join("\n"),
			host: "busy",
			time: iso(NOW - 21 * 24 * HOUR + i * 1000),
		});
});
afterAll(async () => {
	await app.close();
	await store.close();
	rmSync(dir, { recursive: true, force: true });
});

/** `gocrash fleet ARGS...` against the test's server with its read token in the environment. */
const fleet = (...args: string[]) =>
	runGocrash(["fleet", ...args], { env: { GOCRASH_SERVER: server, GOCRASH_TOKEN: read } });

const split = () => ids.bucket.split as string;
const rows = (stdout: string): string[][] =>
	stdout
		.trimEnd()
		.split("\n")
		.map((l) => l.trim().split(/ {2,}/));

describe("gocrash fleet buckets", () => {
	it("lists the top buckets with counts, hosts, times, marks, diagnosis and title", async () => {
		const r = await fleet("buckets");
		expect([r.code, r.stderr]).toEqual([0, ""]);
		expect(rows(r.stdout)).toEqual([
			["3 fatal buckets, 2026-11-26 12:00 – 2026-12-03 12:00 UTC"],
			["RANK", "COUNT", "HOSTS", "FIRST SEEN", "LAST SEEN", "MARKS", "ID", "DIAGNOSIS", "TITLE"],
			[
				"1",
				"9",
				"6",
				"2026-12-01 00:00",
				"2026-12-03 03:00",
				"new,regressed",
				split(),
				"go-arm64-split-sp-epilogue (likely)",
				"unwinder failure: goroutine preempted in main.big_stack",
			],
			[
				"2",
				"7",
				"4",
				"2026-11-12 12:00",
				"2026-12-02 21:00",
				"-",
				ids.bucket.map,
				"concurrent-map-access (confirmed)",
				"fatal error: concurrent map writes in main.concurrentMapWrites.func2",
			],
			[
				"3",
				"3",
				"3",
				"2026-12-02 16:00",
				"2026-12-03 00:00",
				"new",
				ids.bucket.nil,
				"nil-pointer-dereference (confirmed)",
				"panic: runtime error: invalid memory address or nil pointer dereference [SIGSEGV addr=nil+small] in main.(*config).listenPort",
			],
		]);
	});

	it("passes --service, --attr, --kind, --from, --to and --limit to the API", async () => {
		const ranked = async (...args: string[]) => {
			const r = await fleet("buckets", ...args);
			expect(r.stderr).toBe("");
			return rows(r.stdout)
				.slice(2)
				.map((row) => [row[0], row[1], row[6]]);
		};
		expect(await ranked("--service", "auth")).toEqual([
			["1", "6", ids.bucket.map],
			["2", "3", ids.bucket.nil],
		]);
		expect(await ranked("--attr", "region=eu-west")).toEqual([
			["1", "9", split()],
			["2", "3", ids.bucket.nil],
		]);
		expect(await ranked("--attr", "region=eu-west", "--attr", "version=1.0.0")).toEqual([
			["1", "1", split()],
		]);
		expect(await ranked("--kind", "recovered")).toEqual([["1", "1", ids.bucket.nil]]);
		// The window is widened to whole hours: 50 h ago to 45 h ago holds one crash, 60 h ago another.
		expect(await ranked("--from", iso(NOW - 50 * HOUR - 1), "--to", iso(NOW - 45 * HOUR))).toEqual([
			["1", "1", ids.bucket.map],
		]);
		expect(await ranked("--to", iso(NOW - 45 * HOUR))).toEqual([
			["1", "1", ids.bucket.map],
			["2", "1", split()],
		]);
		const top = await fleet("buckets", "--limit", "1");
		expect(top.stdout.split("\n")[0]).toBe(
			"top 1 fatal bucket, 2026-11-26 12:00 – 2026-12-03 12:00 UTC",
		);
		expect(rows(top.stdout)).toHaveLength(3);
		const none = await fleet("buckets", "--service", "billing");
		expect(none.stdout).toBe("no fatal crashes 2026-11-26 12:00 – 2026-12-03 12:00 UTC\n");
	});

	it("shows rank changes against the window before", async () => {
		// From 24 h ago: the window before (48 h to 24 h ago) ranked map first, split second.
		const r = await fleet("buckets", "--from", iso(NOW - 24 * HOUR));
		expect(
			rows(r.stdout)
				.slice(2)
				.map((row) => [row[0], row[5], row[6]]),
		).toEqual([
			["1 ▲1", "regressed", split()],
			["2", "new", ids.bucket.nil],
			["3 ▼2", "-", ids.bucket.map],
		]);
	});

	it("reads a time back from now", async () => {
		const before = Date.now();
		const r = await fleet(
			"buckets",
			"--from",
			"24h",
			"--to",
			new Date(before).toISOString(),
			"--json",
		);
		expect(r.stderr).toBe("");
		const from = Date.parse(JSON.parse(r.stdout).from);
		expect(from).toBeLessThanOrEqual(before - 24 * HOUR);
		expect(from).toBeGreaterThan(before - 25 * HOUR - 60_000);
	});

	it("prints the API's answer unchanged with --json", async () => {
		const r = await fleet("buckets", "--service", "auth", "--attr", "region=us-east", "--json");
		const answer = await api("/api/v1/buckets?service=auth&region=us-east");
		expect(answer.status).toBe(200);
		expect(r.stdout).toBe(`${answer.text}\n`);
		expect(JSON.parse(r.stdout).buckets.map((b: { id: string }) => b.id)).toEqual([ids.bucket.map]);
	});
});

describe("gocrash fleet bucket and correlations", () => {
	it("shows the bucket: signature, why, diagnosis with evidence, versions, samples, correlations", async () => {
		const r = await fleet("bucket", split());
		expect([r.code, r.stderr]).toEqual([0, ""]);
		const lines = r.stdout.split("\n");
		expect(lines.slice(0, 6)).toEqual([
			`bucket ${split()}: unwinder failure: goroutine preempted in main.big_stack`,
			"9 crashes on 6 hosts, first 2026-12-01 00:00, last 2026-12-03 03:00 UTC, regressed",
			"",
			`signature (v${SIGNATURE_VERSION}): unwinder failure`,
			"  main.big_stack",
			"why grouped:",
		]);
		expect(r.stdout).toContain(
			"  - grouped by the function the victim was preempted in, not by the goroutine that crashed\n",
		);
		expect(r.stdout).toContain(
			"LIKELY    go-arm64-split-sp-epilogue: arm64 compiler split a stack-frame pop over two instructions (golang/go#73259)\n  evidence:\n    - fatal error: traceback did not unwind completely\n",
		);
		expect(r.stdout).toContain("  fixed in: go1.23.12 (non-leaf functions)");
		const versions = lines.indexOf("versions:");
		expect(rows(lines.slice(versions + 1, versions + 5).join("\n"))).toEqual([
			["SERVICE", "VERSION", "COUNT", "FIRST SEEN", "LAST SEEN"],
			["edge", "1.0.0", "1", "2026-12-01 00:00", "2026-12-01 00:00"],
			["edge", "1.2.0", "8", "2026-12-02 06:00", "2026-12-03 03:00"],
			["regressed in edge 1.2.0: seen in 1.0.0, not in 1.1.0"],
		]);
		const samples = lines.indexOf("newest 9 crashes:");
		expect(lines[samples + 1]?.trim().split(/ {2,}/)).toEqual([
			"TIME",
			"KIND",
			"HOST",
			"SERVICE",
			"VERSION",
			"ID",
			"MESSAGE",
		]);
		expect(lines[samples + 2]?.trim().split(/ {2,}/)).toEqual([
			"2026-12-03 03:00:00",
			"fatal",
			"arm-2",
			"edge",
			"1.2.0",
			expect.stringMatching(/^[0-9a-f]{32}$/),
			"fatal error: traceback did not unwind completely",
		]);
		const shown = lines.slice(samples + 2, samples + 11).map((l) => l.trim().split(/ {2,}/)[5]);
		const inBucket = JSON.parse((await api(`/api/v1/crashes?bucket=${split()}`)).text).crashes.map(
			(c: { id: string }) => c.id,
		);
		expect(shown).toEqual(inBucket);
		expect(inBucket).toHaveLength(9);
		expect(lines[samples + 12]).toBe(
			`correlations of bucket ${split()} (9 crashes) against the other crashes (10), 2026-11-26 12:00 – 2026-12-03 12:00 UTC:`,
		);
		expect(lines[samples + 14]?.trim().split(/ {2,}/)).toEqual([
			"preempted",
			"main.big_stack",
			"100%",
			"0%",
			"9",
			"3.8e-5",
			"8.64",
		]);
	});

	it("prints the bucket's answer and its correlations' answer unchanged with --json", async () => {
		const r = await fleet("bucket", split(), "--json", "--reference", "fleet");
		const bucket = await api(`/api/v1/buckets/${split()}`);
		const correlations = await api(`/api/v1/buckets/${split()}/correlations?reference=fleet`);
		expect(r.stdout).toBe(`${bucket.text}\n${correlations.text}\n`);
		expect(JSON.parse(bucket.text).diagnosis.id).toBe("go-arm64-split-sp-epilogue");
	});

	it("lists the over-represented values against other crashes or the fleet, and the rates in time", async () => {
		const r = await fleet("correlations", split());
		expect([r.code, r.stderr]).toEqual([0, ""]);
		expect(rows(r.stdout)).toEqual([
			[
				`correlations of bucket ${split()} (9 crashes) against the other crashes (10), 2026-11-26 12:00 – 2026-12-03 12:00 UTC:`,
			],
			["ATTRIBUTE", "VALUE", "IN BUCKET", "IN REFERENCE", "COUNT", "Q", "EFFECT"],
			["preempted", "main.big_stack", "100%", "0%", "9", "3.8e-5", "8.64"],
			["preempted", "main.work", "100%", "0%", "9", "3.8e-5", "8.64"],
			["service", "edge", "100%", "10%", "9", "2.1e-4", "6.91"],
			["version", "1.2.0", "88.9%", "0%", "8", "2.1e-4", "6.89"],
			["goarch", "arm64", "100%", "30%", "9", "0.00278", "5.35"],
			["region", "eu-west", "100%", "30%", "9", "0.00278", "5.35"],
			[
				"per hour, against the recovered rate: r=-0.02; strongest r=0.49 with the bucket 22 h ahead",
			],
			["per day, against the recovered rate: r=0.17"],
		]);
		const fleetWide = await fleet("correlations", split(), "--reference", "fleet");
		expect(rows(fleetWide.stdout).slice(0, 4)).toEqual([
			[
				`correlations of bucket ${split()} (9 crashes) against the fleet (648 host-hours of heartbeats), 2026-11-26 12:00 – 2026-12-03 12:00 UTC:`,
			],
			["ATTRIBUTE", "VALUE", "IN BUCKET", "IN REFERENCE", "COUNT", "Q", "EFFECT"],
			["service", "edge", "100%", "0%", "9", "8.4e-20", "14.59"],
			["version", "1.2.0", "88.9%", "0%", "8", "2.7e-17", "12.84"],
		]);
		const json = await fleet("correlations", split(), "--json", "--from", iso(NOW - 40 * HOUR));
		const answer = await api(
			`/api/v1/buckets/${split()}/correlations?from=${encodeURIComponent(iso(NOW - 40 * HOUR))}`,
		);
		expect(json.stdout).toBe(`${answer.text}\n`);
		const few = await fleet("correlations", ids.bucket.nil as string, "--kind", "recovered");
		expect(rows(few.stdout)[1]).toEqual(["no attribute value over-represented (q ≤ 0.05)"]);
	});
});

describe("gocrash fleet rates", () => {
	it("charts the hours of each day as a row of blocks, with counts and crashes per host-hour", async () => {
		const r = await fleet("rates", "--from", iso(NOW - 36 * HOUR), "--to", iso(NOW - 6 * HOUR));
		expect([r.code, r.stderr]).toEqual([0, ""]);
		expect(r.stdout).toBe(
			[
				"fatal crashes per hour, 2026-12-02 00:00 – 2026-12-03 06:00 UTC: 16 in all, at most 2 in an hour, 0.0593 per host-hour",
				"DAY         00    06    12    18      COUNT  PER HOST-HOUR",
				"2026-12-02  ·▄····█··▄·▄▄··▄█·▄·▄█··  13     0.0602",
				"2026-12-03  █··▄··                    3      0.0556",
				"(a cell an hour, its height up to 2; · none)",
				"",
			].join("\n"),
		);
		const bucket = await fleet("rates", "--bucket", split(), "--from", iso(NOW - 36 * HOUR));
		expect(bucket.stdout.split("\n").slice(0, 4)).toEqual([
			`fatal crashes of bucket ${split()} per hour, 2026-12-02 00:00 – 2026-12-03 12:00 UTC: 8 in all, at most 1 in an hour, 0.0247 per host-hour`,
			"DAY         00    06    12    18      COUNT  PER HOST-HOUR",
			"2026-12-02  ······█··█··█··█··█··█··  6      0.0278",
			"2026-12-03  █··█········              2      0.0185",
		]);
	});

	it("draws a bar a day with --interval day, and filters by kind", async () => {
		const r = await fleet("rates", "--interval", "day", "--from", iso(NOW - 3 * 24 * HOUR));
		expect(r.stdout.split("\n").map((l) => l.trimEnd())).toEqual([
			"fatal crashes per day, 2026-11-30 00:00 – 2026-12-04 00:00 UTC: 19 in all, at most 13 in a day, 0.0293 per host-hour",
			`DAY         CRASHES${" ".repeat(33)}  COUNT  PER HOST-HOUR`,
			`2026-11-30  ${" ".repeat(40)}  0      0`,
			`2026-12-01  █████████▎${" ".repeat(30)}  3      0.0139`,
			`2026-12-02  ${"█".repeat(40)}  13     0.0602`,
			`2026-12-03  █████████▎${" ".repeat(30)}  3      0.0278`,
			"",
		]);
		const recovered = await fleet("rates", "--kind", "recovered", "--interval", "day", "--json");
		const answer = await api("/api/v1/rates?kind=recovered&interval=day");
		expect(recovered.stdout).toBe(`${answer.text}\n`);
		expect(
			JSON.parse(answer.text).series.reduce((n: number, p: { count: number }) => n + p.count, 0),
		).toBe(1);
	});
});

describe("gocrash fleet crash and host", () => {
	it("shows a crash: header, attributes, diagnosis and its text", async () => {
		const id = ids.crash[0] as string;
		const r = await fleet("crash", id);
		expect([r.code, r.stderr]).toEqual([0, ""]);
		expect(r.stdout.split("\n").slice(0, 10)).toEqual([
			`crash ${id} · fatal · 2026-12-01 00:00:00 UTC (received 2026-12-03 12:00:00)`,
			`host arm-1 · service edge · version 1.0.0 · bucket ${split()}`,
			"fatal error: traceback did not unwind completely",
			"",
			"attributes:",
			"  NAME       VALUE",
			"  goarch     arm64",
			"  preempted  main.big_stack, main.work",
			"  region     eu-west",
			"",
		]);
		expect(r.stdout).toContain(
			"\nLIKELY    go-arm64-split-sp-epilogue: arm64 compiler split a stack-frame pop over two instructions (golang/go#73259)\n",
		);
		const explained = await fleet("crash", id, "--explain");
		expect(explained.stdout).not.toContain("more with --explain");
		expect(r.stdout).toContain("(1 more with --explain)");
		const json = await fleet("crash", id, "--json");
		expect(json.stdout).toBe(`${(await api(`/api/v1/crashes/${id}`)).text}\n`);
		// The text of the crash as stored: its own lines of what the host sent.
		const { text, textSize } = JSON.parse(json.stdout) as { text: string; textSize: number };
		expect(SPLIT).toContain(text.trim());
		expect(text.length).toBeGreaterThan(10_000);
		expect(r.stdout.endsWith(`\ntext (${textSize} bytes):\n${text.trimEnd()}\n`)).toBe(true);
	});

	it("lists a host's crashes newest first, following the pages up to --limit", async () => {
		const r = await fleet("host", "arm-1");
		expect([r.code, r.stderr]).toEqual([0, ""]);
		expect(rows(r.stdout).map((row) => row.slice(0, 5).concat(row.slice(6, 7)))).toEqual([
			["5 crashes from host arm-1, newest first"],
			["TIME", "KIND", "HOST", "SERVICE", "VERSION", "BUCKET"],
			["2026-12-03 07:00:00", "recovered", "arm-1", "auth", "2.0.0", ids.bucket.nil],
			["2026-12-03 00:00:00", "fatal", "arm-1", "edge", "1.2.0", split()],
			["2026-12-02 16:00:00", "fatal", "arm-1", "auth", "2.0.0", ids.bucket.nil],
			["2026-12-02 06:00:00", "fatal", "arm-1", "edge", "1.2.0", split()],
			["2026-12-01 00:00:00", "fatal", "arm-1", "edge", "1.0.0", split()],
		]);
		const fatal = await fleet("host", "arm-1", "--kind", "fatal", "--limit", "2");
		expect(rows(fatal.stdout)[0]).toEqual([
			"2 crashes from host arm-1, newest first (more with a higher --limit)",
		]);
		expect(
			rows(fatal.stdout)
				.slice(2)
				.map((row) => row[1]),
		).toEqual(["fatal", "fatal"]);

		// 1,100 crashes: a page of the API's most (1,000), then the next page from its cursor.
		const busy = await fleet("host", "busy", "--limit", "1050", "--json");
		const [first, second, more] = busy.stdout.split("\n");
		expect(more).toBe("");
		const page1 = await api("/api/v1/crashes?host=busy&limit=1000");
		expect(first).toBe(page1.text);
		const next = JSON.parse(page1.text).next as string;
		expect(second).toBe((await api(`/api/v1/crashes?host=busy&limit=50&cursor=${next}`)).text);
		const text = await fleet("host", "busy", "--limit", "1100");
		const lines = rows(text.stdout);
		expect(lines[0]).toEqual(["1100 crashes from host busy, newest first"]);
		expect(new Set(lines.slice(2).map((row) => row[5])).size).toBe(1100);
		expect((await fleet("host", "nobody")).stdout).toBe("no crashes from host nobody\n");
	});
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
	const probe = createHttpServer();
	await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
	const { port } = probe.address() as { port: number };
	await new Promise((done) => probe.close(done));
	return port;
}

describe("gocrash fleet errors", () => {
	it("names the server and status of an API error in one line, exit 1", async () => {
		const wrong = await runGocrash(["fleet", "buckets"], {
			env: { GOCRASH_SERVER: server, GOCRASH_TOKEN: "gct_read_wrong" },
		});
		const refused = JSON.parse((await api("/api/v1/buckets", "gct_read_wrong")).text).error;
		expect(refused.code).toBe("unauthorized");
		expect([wrong.code, wrong.stdout, wrong.stderr]).toEqual([
			1,
			"",
			`gocrash fleet: ${server}/api/v1/buckets: 401 unauthorized: ${refused.message}\n`,
		]);
		const ingestOnly = await fleet("buckets", "--token", ingest);
		expect(ingestOnly.stderr).toMatch(
			new RegExp(`^gocrash fleet: ${server}/api/v1/buckets: 403 forbidden: .*read token.*\n$`),
		);
		const unknown = await fleet("bucket", "0000000000000000");
		expect([unknown.code, unknown.stderr]).toEqual([
			1,
			`gocrash fleet: ${server}/api/v1/buckets/0000000000000000: 404 not_found: no bucket 0000000000000000\n`,
		]);
		const noCrash = await fleet("crash", "ffff");
		expect(noCrash.stderr).toBe(
			`gocrash fleet: ${server}/api/v1/crashes/ffff: 404 not_found: no crash ffff\n`,
		);
		const tooLong = await fleet("rates", "--from", "2000-01-01T00:00:00Z");
		expect(tooLong.code).toBe(1);
		expect(tooLong.stderr).toMatch(
			/\/api\/v1\/rates\?from=2000-01-01T00%3A00%3A00Z: 400 bad_request: the window holds \d+ hours; at most 8784 points\n$/,
		);
		const badTime = await fleet("buckets", "--from", "yesterday");
		expect(badTime.stderr).toBe(
			`gocrash fleet: ${server}/api/v1/buckets?from=yesterday: 400 bad_request: from: 'yesterday' is not an RFC 3339 time or ms since the epoch\n`,
		);
	});

	it("says when the server is not reachable, and where it looked", async () => {
		const port = await closedPort();
		const r = await fleet("buckets", "--server", `http://127.0.0.1:${port}`);
		expect([r.code, r.stderr]).toEqual([
			1,
			`gocrash fleet: the server is not reachable at http://127.0.0.1:${port} (connection refused): start 'gocrash serve' there, or pass --server URL or set GOCRASH_SERVER\n`,
		]);
		const nowhere = await fleet("buckets", "--server", "http://no-such-host.invalid:7480");
		expect(nowhere.stderr).toMatch(
			/^gocrash fleet: the server is not reachable at http:\/\/no-such-host\.invalid:7480 \((no such host|the host name did not resolve)\)/,
		);
		// Not a fleet service: an answer that is not the API's JSON is shown by its status.
		const health = await fleet("buckets", "--server", `${server}/healthz`);
		expect(health.stderr).toBe(
			`gocrash fleet: ${server}/healthz/api/v1/buckets: 404 not_found: no route GET /healthz/api/v1/buckets\n`,
		);
	});

	it("takes the server and token from flags over the environment, else the defaults", async () => {
		const flags = await runGocrash(
			["fleet", "buckets", "--server", `${server}/`, "--token", read],
			{
				env: { GOCRASH_SERVER: "http://127.0.0.1:1", GOCRASH_TOKEN: "gct_read_wrong" },
			},
		);
		expect([flags.code, flags.stderr]).toEqual([0, ""]);
		expect(flags.stdout).toContain(split());
		const noServer = await runGocrash(["fleet", "buckets"], { env: { GOCRASH_TOKEN: read } });
		expect(noServer.code).toBe(1);
		// Whatever answers there (nothing, or a service that does not know this token), it is asked.
		expect(noServer.stderr).toMatch(/^gocrash fleet: .*http:\/\/127\.0\.0\.1:7480/);
		const noToken = await runGocrash(["fleet", "buckets"], { env: { GOCRASH_SERVER: server } });
		expect(noToken.code).toBe(2);
		expect(noToken.stderr.split("\n")[0]).toBe(
			"gocrash fleet: no token: pass --token or set GOCRASH_TOKEN (a read token: 'gocrash token create --scope read')",
		);
		const empty = await runGocrash(["fleet", "buckets", "--token", ""], {
			env: { GOCRASH_SERVER: server },
		});
		expect(empty.stderr).toMatch(/^gocrash fleet: no token: /);
	});

	it("refuses bad flags and arguments before asking the server, exit 2 with the usage", async () => {
		const cases: [string[], string][] = [
			[[], "give an action: buckets, bucket, correlations, rates, crash, host"],
			[["bucketz"], "give an action: buckets, bucket, correlations, rates, crash, host"],
			[["bucket"], "bucket: give the bucket's id"],
			[["host"], "host: give the host's name"],
			[["crash", "a", "b"], "unexpected argument 'b'"],
			[["buckets", "extra"], "unexpected argument 'extra'"],
			[["buckets", "--kind", "panic"], "--kind: 'panic' is not fatal or recovered"],
			[["rates", "--interval", "week"], "--interval: 'week' is not hour or day"],
			[["correlations", "x", "--reference", "all"], "--reference: 'all' is not crashes or fleet"],
			[["buckets", "--limit", "0"], "--limit: '0' is not a whole number from 1 to 1000"],
			[["buckets", "--limit", "5000"], "--limit: '5000' is not a whole number from 1 to 1000"],
			[["buckets", "--attr", "arm64"], "--attr: 'arm64' is not NAME=VALUE"],
			[["buckets", "--attr", "=x"], "--attr: '=x' is not NAME=VALUE"],
			[
				["buckets", "--attr", "host=arm-1"],
				"--attr: 'host' is a parameter of its own, not an attribute filter",
			],
			[
				["buckets", "--attr", "service=edge"],
				"--attr: 'service' is a parameter of its own, not an attribute filter (use --service)",
			],
			[["crash", "x", "--from", "1h"], "--from: not an option of 'fleet crash'"],
			[["buckets", "--reference", "fleet"], "--reference: not an option of 'fleet buckets'"],
			[["host", "h", "--service", "edge"], "--service: not an option of 'fleet host'"],
			[["buckets", "--nope"], "Unknown option '--nope'"],
			[
				["buckets", "--server", "localhost:7480"],
				"--server: 'localhost:7480' is not an http:// or https:// URL",
			],
			[["buckets", "--server", "not a url"], "--server: 'not a url' is not a URL"],
		];
		for (const [args, message] of cases) {
			const r = await fleet(...args);
			expect(r.code, args.join(" ")).toBe(2);
			expect(r.stderr.split("\n")[0], args.join(" ")).toContain(`gocrash fleet: ${message}`);
			expect(r.stderr).toContain("usage: gocrash fleet buckets");
		}
		const help = await fleet("--help");
		expect([help.code, help.stdout.split("\n")[0]]).toEqual([
			0,
			"usage: gocrash fleet buckets [--from T] [--to T] [--service S] [--kind K] [--attr NAME=VALUE]...",
		]);
	});
});
