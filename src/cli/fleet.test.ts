import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGocrash } from "../../test/binaries/_cli.js";
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
