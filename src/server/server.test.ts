import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtinRulesDir, loadRules } from "../cli/diagnose.js";
import type { Store } from "../store/index.js";
import { openSqliteStore } from "../store/sqlite/index.js";
import { createServer, newToken } from "./index.js";

const FIXTURES = new URL("../../test/fixtures/", import.meta.url);
const fixture = (path: string): string => readFileSync(new URL(path, FIXTURES), "utf8");
const NIL = fixture("crashes/go1.24.4-arm64/nil-pointer.crash.txt");
const MAP = fixture("crashes/go1.26.10-amd64/concurrent-map-writes.txt");
const RACE_THEN_PANIC = fixture("crashes/go1.26.10-amd64/race-then-panic.txt");
const SPLIT = fixture("diagnose/split-sp/go1.24.4-arm64-non-leaf.txt");
const WINDOWS = fixture("wild/windows-exception-cgo-go1.5.txt");

const dir = mkdtempSync(join(tmpdir(), "gocrash-server-"));
let store: Store;
let app: FastifyInstance;
let now = Date.UTC(2026, 11, 3, 12);
let ingest = "";
let read = "";

beforeAll(async () => {
	store = await openSqliteStore(join(dir, "gocrash.db"));
	const { rules } = await loadRules([builtinRulesDir]);
	app = createServer({
		store,
		rules,
		limits: { maxBody: 1 << 20, maxCrashesPerRequest: 5 },
		now: () => now,
	});
	const i = newToken("ingest", "test-ingest", now);
	const r = newToken("read", "test-read", now);
	await store.createToken(i.record);
	await store.createToken(r.record);
	ingest = i.secret;
	read = r.secret;
});
afterAll(async () => {
	await app.close();
	await store.close();
	rmSync(dir, { recursive: true, force: true });
});

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
	app.inject({
		method: "POST",
		url,
		headers: { authorization: `Bearer ${ingest}`, "content-type": "application/json", ...headers },
		payload: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
	});
const get = (url: string, token = read) =>
	app.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });

async function countStored(): Promise<number> {
	return (await store.listCrashes({ limit: 10_000 })).length;
}

describe("the fleet API", () => {
	it("answers health checks without a token", async () => {
		expect((await app.inject("/healthz")).json()).toEqual({ status: "ok" });
		expect((await app.inject("/readyz")).json()).toEqual({ status: "ready", store: "sqlite" });
	});

	it("needs the right token for every request", async () => {
		const none = await app.inject({ method: "GET", url: "/api/v1/buckets" });
		expect(none.statusCode).toBe(401);
		expect(none.json().error.code).toBe("unauthorized");
		expect((await get("/api/v1/buckets", "gct_read_nope")).statusCode).toBe(401);
		const wrong = await get("/api/v1/buckets", ingest);
		expect(wrong.statusCode).toBe(403);
		expect(wrong.json().error.message).toMatch(/needs a read token/);
		expect(
			(await post("/api/v1/crashes", { text: NIL }, { authorization: `Bearer ${read}` }))
				.statusCode,
		).toBe(403);
		expect(await countStored()).toBe(0);
	});

	it("stores a crash with the sender's and the text's attributes, and gives it back parsed", async () => {
		const res = await post("/api/v1/crashes", {
			text: NIL,
			time: "2026-12-03T10:00:00Z",
			host: "arm-1",
			service: "api",
			version: "1.2.3",
			attributes: { region: "eu-west", goVersion: "go1.24.4-custom" },
		});
		expect(res.statusCode).toBe(201);
		const [stored] = res.json().crashes;
		expect(stored.id).toMatch(/^[0-9a-f]{32}$/);
		const crash = (await get(`/api/v1/crashes/${stored.id}`)).json();
		expect(crash.bucket).toBe(stored.bucket);
		expect(crash.time).toBe("2026-12-03T10:00:00.000Z");
		expect(crash.attributes).toMatchObject({
			region: "eu-west",
			goarch: "arm64",
			goVersion: "go1.24.4-custom",
		});
		expect(crash.crash.message).toMatch(
			/^panic: runtime error: invalid memory address or nil pointer dereference/,
		);
		// The only crash of the text keeps all of it.
		expect(crash.text).toBe(NIL);
		expect(crash.findings.length).toBeGreaterThan(0);
		expect(crash.diagnosis).toEqual({
			id: crash.findings[0].id,
			confidence: crash.findings[0].confidence,
			title: crash.findings[0].title,
			category: crash.findings[0].category,
		});
	});

	it("takes crash text as text/plain with the fields as query parameters, gzip or not", async () => {
		const res = await post(
			"/api/v1/crashes?host=amd-1&service=api&kind=recovered&attributes.region=us",
			gzipSync(MAP),
			{
				"content-type": "text/plain",
				"content-encoding": "gzip",
			},
		);
		expect(res.statusCode).toBe(201);
		const crash = (await get(`/api/v1/crashes/${res.json().crashes[0].id}`)).json();
		expect(crash).toMatchObject({
			host: "amd-1",
			service: "api",
			kind: "recovered",
			attributes: { region: "us" },
		});
		expect(crash.crash.message).toBe("fatal error: concurrent map writes");
	});

	it("stores every crash and race report of one text", async () => {
		const res = await post("/api/v1/crashes", { text: RACE_THEN_PANIC, host: "amd-2" });
		expect(res.statusCode).toBe(201);
		const crashes = res.json().crashes;
		expect(crashes.length).toBe(2);
		expect(new Set(crashes.map((c: { bucket: string }) => c.bucket)).size).toBe(2);
		// The text is cut between them: each keeps the lines before it, the last the lines after.
		const [race, panic] = await Promise.all(
			crashes.map(async (c: { id: string }) => (await get(`/api/v1/crashes/${c.id}`)).json()),
		);
		expect(race.text).toMatch(/^={10,}\nWARNING: DATA RACE\n/);
		expect(panic.text).toMatch(/^(=+\n)?panic: /);
		expect(`${race.text}\n${panic.text}`).toBe(RACE_THEN_PANIC);
	});

	it("stores a retried report once", async () => {
		const before = await countStored();
		const first = await post(
			"/api/v1/crashes",
			{ text: SPLIT, host: "arm-2" },
			{ "idempotency-key": "retry-1" },
		);
		const again = await post(
			"/api/v1/crashes",
			{ text: SPLIT, host: "arm-2" },
			{ "idempotency-key": "retry-1" },
		);
		expect(first.statusCode).toBe(201);
		expect(again.statusCode).toBe(200);
		expect(again.json().crashes.map((c: { id: string }) => c.id)).toEqual(
			first.json().crashes.map((c: { id: string }) => c.id),
		);
		expect(await countStored()).toBe(before + 1);
	});

	it("refuses bad requests with one clear JSON error each, storing nothing", async () => {
		const before = await countStored();
		const cases: [Parameters<typeof post>, number, string, RegExp][] = [
			[["/api/v1/crashes", "{not json"], 400, "bad_request", /JSON/],
			[["/api/v1/crashes", { host: "x" }], 400, "bad_request", /text: the crash text is missing/],
			[
				["/api/v1/crashes", { text: NIL, time: "yesterday" }],
				400,
				"bad_request",
				/time: 'yesterday' is not an RFC 3339 time/,
			],
			[
				["/api/v1/crashes", { text: NIL, attributes: { a: 1 } }],
				400,
				"bad_request",
				/attributes\.a: must be a string/,
			],
			[["/api/v1/crashes", { text: NIL, kind: "meh" }], 400, "bad_request", /kind: 'meh'/],
			[["/api/v1/crashes", [1, 2]], 400, "bad_request", /body: must be a JSON object/],
			[
				["/api/v1/crashes", { text: "all is well\nno crash here\n" }],
				422,
				"no_crash",
				/no Go crash/,
			],
			[
				["/api/v1/crashes", { text: `${NIL}\n`.repeat(6) }],
				413,
				"too_large",
				/holds 6 crashes; at most 5/,
			],
			[["/api/v1/crashes", { text: "x".repeat(2 << 20) }], 413, "too_large", /./],
			[
				["/api/v1/crashes", "<xml/>", { "content-type": "application/xml" }],
				415,
				"unsupported_media_type",
				/./,
			],
			[
				["/api/v1/crashes", Buffer.from("not gzip"), { "content-encoding": "gzip" }],
				400,
				"bad_request",
				/gzip/,
			],
			[
				["/api/v1/crashes", "x", { "content-encoding": "br" }],
				415,
				"unsupported_media_type",
				/Content-Encoding 'br'/,
			],
			[
				["/api/v1/crashes", gzipSync(Buffer.alloc(3 << 20, 32)), { "content-encoding": "gzip" }],
				413,
				"too_large",
				/./,
			],
		];
		for (const [args, status, code, message] of cases) {
			const res = await post(...args);
			expect([res.statusCode, res.json().error.code], JSON.stringify(args).slice(0, 120)).toEqual([
				status,
				code,
			]);
			expect(res.json().error.message).toMatch(message);
			expect(res.json().error.message).not.toMatch(/\n/);
		}
		expect(await countStored()).toBe(before);
		expect((await get("/api/v1/nope")).json().error.code).toBe("not_found");
		expect((await get("/api/v1/buckets?from=tomorrow")).statusCode).toBe(400);
		expect((await get("/api/v1/crashes?cursor=zzz")).statusCode).toBe(400);
	});

	it("takes hostile text without falling over", async () => {
		const garbage = Buffer.from(
			Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256),
		).toString("latin1");
		const hostile = [
			garbage,
			`panic: ${"A".repeat(900_000)}\n\ngoroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n`,
			"\u0000\ud800panic: \n",
		];
		for (const text of hostile) {
			const res = await post("/api/v1/crashes", { text });
			expect([201, 422]).toContain(res.statusCode);
		}
		expect((await app.inject("/healthz")).statusCode).toBe(200);
	});

	it("counts heartbeats as host-hours, the denominator of rates", async () => {
		const hour = 3_600_000;
		const t0 = Date.UTC(2026, 11, 3, 8);
		const heartbeats = [];
		for (let h = 0; h < 4; h++)
			for (const host of ["arm-1", "arm-2", "amd-1", "amd-2"])
				heartbeats.push({
					host,
					time: new Date(t0 + h * hour + 60_000).toISOString(),
					service: "api",
					attributes: { region: "eu-west" },
				});
		const res = await post("/api/v1/heartbeats", { heartbeats });
		expect(res.json()).toEqual({ accepted: 16 });
		expect(
			(await post("/api/v1/heartbeats", { heartbeats: [{ time: "2026-12-03T08:00:00Z" }] })).json()
				.error.message,
		).toBe("heartbeats[0].host: missing");
		const rates = (await get(`/api/v1/rates?from=${t0}&to=${t0 + 4 * hour}&interval=hour`)).json();
		expect(rates.series.map((p: { hostHours: number }) => p.hostHours)).toEqual([4, 4, 4, 4]);
		const at10 = rates.series[2];
		expect(at10.t).toBe("2026-12-03T10:00:00.000Z");
		expect(at10.count).toBe(1);
		expect(at10.perHostHour).toBe(0.25);
	});

	it("lists buckets most crashes first, and shows one with why its crashes were grouped", async () => {
		for (let i = 0; i < 2; i++)
			await post("/api/v1/crashes", {
				text: NIL,
				host: `arm-${i + 3}`,
				time: "2026-12-03T11:00:00Z",
			});
		const list = (await get("/api/v1/buckets?from=2026-12-01T00:00:00Z")).json();
		expect(list.buckets[0].count).toBe(3);
		expect(list.buckets[0].hosts).toBe(3);
		expect(list.buckets[0].new).toBe(true);
		const counts = list.buckets.map((b: { count: number }) => b.count);
		expect(counts).toEqual([...counts].sort((a: number, b: number) => b - a));
		const one = (await get(`/api/v1/buckets/${list.buckets[0].id}`)).json();
		expect(one.why.length).toBeGreaterThan(0);
		expect(one.samples.length).toBe(3);
		expect(one.diagnosis.finding.evidence.length).toBeGreaterThan(0);
		const eu = (await get("/api/v1/buckets?from=2026-12-01T00:00:00Z&region=eu-west")).json();
		expect(eu.buckets.map((b: { count: number }) => b.count)).toEqual([1]);
		expect((await get("/api/v1/buckets/nope")).statusCode).toBe(404);
	});

	it("pages through crashes and finds them by text", async () => {
		const first = (await get("/api/v1/crashes?limit=2")).json();
		expect(first.crashes.length).toBe(2);
		const second = (await get(`/api/v1/crashes?limit=2&cursor=${first.next}`)).json();
		expect(second.crashes[0].id).not.toBe(first.crashes[1].id);
		const found = (await get("/api/v1/crashes?q=concurrent%20map")).json();
		expect(found.crashes.map((c: { message: string }) => c.message)).toEqual([
			"fatal error: concurrent map writes",
		]);
	});

	it("lists crashes by time window, service and attribute", async () => {
		const ids = async (query: string) =>
			(await get(`/api/v1/crashes?limit=1000&${query}`))
				.json()
				.crashes.map((c: { id: string }) => c.id)
				.sort();
		const all = (await store.listCrashes({ limit: 10_000 })).filter((c) => c.kind === "fatal");
		const at = (c: { time: number }) => c.time;
		const eleven = Date.UTC(2026, 11, 3, 11);
		expect(await ids("kind=fatal&from=2026-12-03T11:00:00Z")).toEqual(
			all
				.filter((c) => at(c) >= eleven)
				.map((c) => c.id)
				.sort(),
		);
		expect(await ids("kind=fatal&to=2026-12-03T11:00:00Z")).toEqual(
			all
				.filter((c) => at(c) < eleven)
				.map((c) => c.id)
				.sort(),
		);
		const eu = await ids("region=eu-west");
		expect(eu.length).toBe(1);
		expect(await ids("service=api&goarch=arm64")).toEqual(eu);
		expect((await get("/api/v1/crashes?from=yesterday")).statusCode).toBe(400);
		expect((await get("/api/v1/crashes?host=a&host=b")).statusCode).toBe(400);
	});

	it("gives a crash's goroutines grouped as gocrash parse groups them, and its victims", async () => {
		const [map] = (await post("/api/v1/crashes", { text: MAP })).json().crashes;
		const crash = (await get(`/api/v1/crashes/${map.id}`)).json();
		const ids = crash.groups.flatMap((g: { ids: number[] }) => g.ids);
		expect(ids.sort()).toEqual(crash.crash.goroutines.map((g: { id: number }) => g.id).sort());
		expect(crash.groups[0].crashed).toBe(true);
		expect(crash.groups.filter((g: { crashed: boolean }) => g.crashed).length).toBe(1);
		expect(crash.victims).toEqual([]);
		const [split] = (await post("/api/v1/crashes", { text: SPLIT })).json().crashes;
		const victims = (await get(`/api/v1/crashes/${split.id}`)).json().victims;
		expect(victims.length).toBeGreaterThan(0);
		expect(victims[0].function).toMatch(/^main\./);
		// Windows prints the crashing goroutine's stack without a header: no id, no state text.
		const [windows] = (await post("/api/v1/crashes", { text: WINDOWS })).json().crashes;
		const groups = (await get(`/api/v1/crashes/${windows.id}`)).json().groups;
		expect(groups[0]).toMatchObject({ ids: [null], state: "running", crashed: true });
	});

	it("gives the rates of several buckets in one answer, as each alone", async () => {
		const list = (await get("/api/v1/buckets?from=2026-12-01T00:00:00Z")).json();
		const ids = list.buckets.map((b: { id: string }) => b.id).slice(0, 3);
		const window = "from=2026-12-02T00:00:00Z&to=2026-12-04T00:00:00Z&interval=hour";
		const many = (await get(`/api/v1/rates?${window}&buckets=${ids.join(",")}`)).json();
		expect(many.buckets.map((b: { bucket: string }) => b.bucket)).toEqual(ids);
		for (const [i, id] of ids.entries()) {
			const one = (await get(`/api/v1/rates?${window}&bucket=${id}`)).json();
			expect(many.buckets[i].series).toEqual(
				one.series.map((p: { t: string; count: number }) => ({ t: p.t, count: p.count })),
			);
			expect(one.series.some((p: { count: number }) => p.count > 0)).toBe(true);
		}
		expect((await get(`/api/v1/rates?buckets=`)).statusCode).toBe(400);
		expect((await get(`/api/v1/rates?buckets=a&bucket=b`)).statusCode).toBe(400);
	});

	it("lists the attributes of a window's crashes with their commonest values", async () => {
		const res = (await get("/api/v1/attributes?from=2026-12-01T00:00:00Z&limit=2")).json();
		const goarch = res.attributes.find((a: { name: string }) => a.name === "goarch");
		expect(goarch.values[0]).toEqual({ value: "arm64", count: expect.any(Number) });
		const counts = goarch.values.map((v: { count: number }) => v.count);
		expect(counts).toEqual([...counts].sort((a: number, b: number) => b - a));
		const names = res.attributes.map((a: { name: string }) => a.name);
		expect(names).toEqual([...names].sort());
		expect(names).toContain("region");
		for (const a of res.attributes) expect(a.values.length).toBeLessThanOrEqual(2);
		expect((await get("/api/v1/attributes?limit=0")).statusCode).toBe(400);
	});
});

describe("rate limits", () => {
	it("answers 429 with Retry-After past the rate of a token", async () => {
		const limited = createServer({
			store,
			rules: [],
			limits: { requestsPerSecond: 2 },
			now: () => now,
		});
		const statuses = [];
		for (let i = 0; i < 4; i++)
			statuses.push(
				(
					await limited.inject({
						url: "/api/v1/buckets",
						headers: { authorization: `Bearer ${read}` },
					})
				).statusCode,
			);
		expect(statuses).toEqual([200, 200, 429, 429]);
		now += 1000;
		expect(
			(
				await limited.inject({
					url: "/api/v1/buckets",
					headers: { authorization: `Bearer ${read}` },
				})
			).statusCode,
		).toBe(200);
		await limited.close();
	});
});
