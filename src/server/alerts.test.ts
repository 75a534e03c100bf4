import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtinRulesDir, loadRules } from "../cli/diagnose.js";
import type { Rule } from "../knowledge/index.js";
import type { Store } from "../store/index.js";
import { openSqliteStore } from "../store/sqlite/index.js";
import { AlertRunner, createServer, newToken } from "./index.js";

const HOUR = 3_600_000;
const FIXTURES = new URL("../../test/fixtures/", import.meta.url);
const fixture = (path: string): string => readFileSync(new URL(path, FIXTURES), "utf8");
const NIL = fixture("crashes/go1.24.4-arm64/nil-pointer.crash.txt");
const MAP = fixture("crashes/go1.26.10-amd64/concurrent-map-writes.txt");
const SPLIT = fixture("diagnose/split-sp/go1.24.4-arm64-non-leaf.txt");

/** A webhook receiver on loopback: records every request, answers with the statuses queued. */
interface Receiver {
	readonly url: string;
	readonly got: { path: string; headers: IncomingHttpHeaders; body: unknown }[];
	readonly statuses: number[];
	close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
	const got: Receiver["got"] = [];
	const statuses: number[] = [];
	const server = createHttpServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on("data", (c: Buffer) => chunks.push(c));
		request.on("end", () => {
			got.push({
				path: request.url ?? "",
				headers: request.headers,
				body: JSON.parse(Buffer.concat(chunks).toString()),
			});
			response.statusCode = statuses.shift() ?? 200;
			response.end("ok");
		});
	});
	await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		got,
		statuses,
		close: () => new Promise((done) => server.close(() => done())),
	};
}

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
	const server = createHttpServer();
	await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
	const { port } = server.address() as AddressInfo;
	await new Promise((done) => server.close(done));
	return port;
}

const quiet = { info: () => {}, warn: () => {} };
const dir = mkdtempSync(join(tmpdir(), "gocrash-alerts-"));
let rules: readonly Rule[];
let receiver: Receiver;
let n = 0;

beforeAll(async () => {
	rules = (await loadRules([builtinRulesDir])).rules;
	receiver = await startReceiver();
});
afterAll(async () => {
	await receiver.close();
	rmSync(dir, { recursive: true, force: true });
});

/** A fresh database with a server whose clock the test sets, its runner not on timers. */
async function setUp(): Promise<{
	store: Store;
	app: FastifyInstance;
	clock: { now: number };
	tokens: { ingest: string; read: string; admin: string };
	runner: AlertRunner;
	done: () => Promise<void>;
}> {
	const store = await openSqliteStore(join(dir, `alerts-${n++}.db`));
	const clock = { now: Date.UTC(2026, 11, 3, 10, 5) };
	const app = createServer({ store, rules, now: () => clock.now, alerts: false });
	const tokens = { ingest: "", read: "", admin: "" };
	for (const scope of ["ingest", "read", "admin"] as const) {
		const t = newToken(scope, `test-${scope}`, clock.now);
		await store.createToken(t.record);
		tokens[scope] = t.secret;
	}
	const runner = new AlertRunner(store, () => clock.now, quiet, { backoff: 1000, maxAttempts: 3 });
	return {
		store,
		app,
		clock,
		tokens,
		runner,
		done: async () => {
			await app.close();
			await store.close();
		},
	};
}

type Setup = Awaited<ReturnType<typeof setUp>>;

const ingestCrash = (s: Setup, text: string, fields: Record<string, unknown> = {}) =>
	s.app.inject({
		method: "POST",
		url: "/api/v1/crashes",
		headers: { authorization: `Bearer ${s.tokens.ingest}` },
		payload: { text, service: "api", version: "1.0", host: "h1", ...fields },
	});

const addRule = (s: Setup, rule: Record<string, unknown>, token = s.tokens.admin) =>
	s.app.inject({
		method: "POST",
		url: "/api/v1/alert-rules",
		headers: { authorization: `Bearer ${token}` },
		payload: rule,
	});

const alerts = async (s: Setup, query = "") =>
	(
		await s.app.inject({
			method: "GET",
			url: `/api/v1/alerts${query}`,
			headers: { authorization: `Bearer ${s.tokens.read}` },
		})
	).json().alerts as Record<string, unknown>[];

describe("alerts", () => {
	it("alerts once on a bucket new since the rule, in its service, as JSON", async () => {
		const s = await setUp();
		try {
			receiver.got.length = 0;
			expect((await ingestCrash(s, NIL)).statusCode).toBe(201);
			s.clock.now += 60_000;
			const made = await addRule(s, { event: "new", service: "api", url: `${receiver.url}/hook` });
			expect(made.statusCode).toBe(201);
			s.clock.now += 60_000;
			// The same bucket again, a new one in another service, and a new one in this service.
			await ingestCrash(s, NIL);
			await ingestCrash(s, MAP, { service: "billing" });
			const split = (await ingestCrash(s, SPLIT)).json().crashes[0].bucket as string;
			const raised = await s.runner.evaluate();
			expect(raised.map((a) => a.bucket)).toEqual([split]);
			expect(await s.runner.evaluate()).toEqual([]);
			expect(await s.runner.deliver()).toBe(1);
			expect(await s.runner.deliver()).toBe(0);
			expect(receiver.got).toHaveLength(1);
			const request = receiver.got[0];
			expect(request?.path).toBe("/hook");
			expect(request?.headers["content-type"]).toBe("application/json");
			expect(request?.headers["gocrash-alert-id"]).toBe(raised[0]?.id);
			expect(request?.body).toMatchObject({
				alert: {
					id: raised[0]?.id,
					event: "new",
					service: "api",
					rule: { id: made.json().rule.id, name: "new in api" },
					bucket: {
						id: split,
						diagnosis: { id: "go-arm64-split-sp-epilogue", confidence: "likely" },
					},
					firstSeen: new Date(s.clock.now).toISOString(),
				},
			});
			const [listed] = await alerts(s);
			expect(listed).toMatchObject({
				id: raised[0]?.id,
				state: "sent",
				attempts: 1,
				lastStatus: 200,
				lastError: null,
				sentAt: new Date(s.clock.now).toISOString(),
			});
		} finally {
			await s.done();
		}
	});

	it("writes Slack's incoming-webhook message for a Slack rule", async () => {
		const s = await setUp();
		try {
			receiver.got.length = 0;
			await addRule(s, { event: "new", url: `${receiver.url}/slack`, format: "slack" });
			s.clock.now += 1000;
			await ingestCrash(s, SPLIT);
			await s.runner.evaluate();
			await s.runner.deliver();
			const body = receiver.got[0]?.body as { text: string };
			expect(Object.keys(body)).toEqual(["text"]);
			expect(body.text).toMatch(/^\*New crash bucket\*: /);
			expect(body.text).toContain("Diagnosis: go-arm64-split-sp-epilogue (likely)");
			expect(body.text).toContain("rule new in every service");
		} finally {
			await s.done();
		}
	});

	it("retries a failing webhook with backoff, shows each attempt, and gives up", async () => {
		const s = await setUp();
		try {
			receiver.got.length = 0;
			receiver.statuses.push(500, 503);
			await addRule(s, { event: "new", url: `${receiver.url}/flaky` });
			await addRule(s, {
				event: "new",
				url: `http://127.0.0.1:${await closedPort()}/`,
				name: "nobody",
			});
			s.clock.now += 1000;
			await ingestCrash(s, NIL);
			await s.runner.evaluate();
			expect(await s.runner.deliver()).toBe(2);
			let listed = await alerts(s);
			expect(listed.map((a) => [a.state, a.attempts])).toEqual([
				["pending", 1],
				["pending", 1],
			]);
			expect(new Set(listed.map((a) => a.lastStatus))).toEqual(new Set([500, null]));
			const flaky = listed.find((a) => a.lastStatus === 500);
			expect(flaky?.lastError).toBe("the webhook answered 500");
			expect(flaky?.nextAttempt).toBe(new Date(s.clock.now + 1000).toISOString());
			const closed = listed.find((a) => a.lastStatus === null);
			expect(closed?.lastError).toBe("ECONNREFUSED");
			// Not yet due: nothing is sent.
			expect(await s.runner.deliver()).toBe(0);
			s.clock.now += 1000;
			expect(await s.runner.deliver()).toBe(2);
			listed = await alerts(s);
			expect(listed.map((a) => a.attempts)).toEqual([2, 2]);
			// Twice as long before the third attempt.
			s.clock.now += 1999;
			expect(await s.runner.deliver()).toBe(0);
			s.clock.now += 1;
			expect(await s.runner.deliver()).toBe(2);
			listed = await alerts(s);
			expect(listed.find((a) => a.id === flaky?.id)).toMatchObject({
				state: "sent",
				attempts: 3,
				lastStatus: 200,
			});
			expect(listed.find((a) => a.id === closed?.id)).toMatchObject({
				state: "failed",
				attempts: 3,
				nextAttempt: null,
			});
			expect(receiver.got.map((r) => r.path)).toEqual(["/flaky", "/flaky", "/flaky"]);
			expect((await alerts(s, "?state=failed")).map((a) => a.id)).toEqual([closed?.id]);
		} finally {
			await s.done();
		}
	});

	it("sends each alert once when two servers evaluate and deliver at the same time", async () => {
		const s = await setUp();
		const second = await openSqliteStore(join(dir, `alerts-${n - 1}.db`));
		try {
			receiver.got.length = 0;
			await addRule(s, { event: "new", url: `${receiver.url}/once` });
			s.clock.now += 1000;
			for (const [i, text] of [NIL, MAP, SPLIT].entries())
				await ingestCrash(s, text, { host: `h${i}` });
			const other = new AlertRunner(second, () => s.clock.now, quiet);
			const raised = await Promise.all([
				s.runner.evaluate(),
				other.evaluate(),
				s.runner.evaluate(),
			]);
			expect(raised.flat()).toHaveLength(3);
			await Promise.all([s.runner.deliver(), other.deliver(), s.runner.deliver()]);
			await Promise.all([s.runner.deliver(), other.deliver()]);
			expect(receiver.got).toHaveLength(3);
			const ids = receiver.got.map((r) => r.headers["gocrash-alert-id"]);
			expect(new Set(ids).size).toBe(3);
		} finally {
			await second.close();
			await s.done();
		}
	});

	it("alerts when a bucket's crashes per host-hour cross the threshold, once per crossing", async () => {
		const s = await setUp();
		try {
			receiver.got.length = 0;
			const hour = s.clock.now - (s.clock.now % HOUR);
			const beat = (h: number, hosts: number) =>
				s.app.inject({
					method: "POST",
					url: "/api/v1/heartbeats",
					headers: { authorization: `Bearer ${s.tokens.ingest}` },
					payload: {
						heartbeats: Array.from({ length: hosts }, (_, i) => ({
							host: `h${i}`,
							service: "api",
							version: "1.0",
							time: new Date(hour + h * HOUR + 60_000).toISOString(),
						})),
					},
				});
			const crashAt = (h: number, count: number) =>
				Promise.all(
					Array.from({ length: count }, (_, i) =>
						ingestCrash(s, NIL, {
							host: `h${i}`,
							time: new Date(hour + h * HOUR + 120_000 + i).toISOString(),
						}),
					),
				);
			const rule = await addRule(s, {
				event: "rate",
				service: "api",
				threshold: 0.25,
				minCount: 2,
				url: `${receiver.url}/rate`,
			});
			expect(rule.json().rule).toMatchObject({ threshold: 0.25, minCount: 2 });
			await beat(0, 10);
			await crashAt(0, 2);
			// 2 crashes on 10 host-hours: 0.2, under the threshold.
			expect(await s.runner.evaluate()).toEqual([]);
			await crashAt(0, 1);
			const [first] = await s.runner.evaluate();
			expect(first?.key).toMatch(/\/rate\/[0-9a-f]+\/\d+$/);
			// The next hour stays over: no second alert. Then one under, and over again: a new one.
			s.clock.now = hour + HOUR + 300_000;
			await beat(1, 10);
			await crashAt(1, 5);
			expect(await s.runner.evaluate()).toEqual([]);
			s.clock.now = hour + 2 * HOUR + 300_000;
			await beat(2, 10);
			await crashAt(2, 1);
			expect(await s.runner.evaluate()).toEqual([]);
			s.clock.now = hour + 3 * HOUR + 300_000;
			await beat(3, 4);
			await crashAt(3, 2);
			const [again] = await s.runner.evaluate();
			expect(again?.key).toBe(first?.key.replace(/\d+$/, String(hour + 3 * HOUR)));
			await s.runner.deliver();
			expect(receiver.got.map((r) => r.body)).toMatchObject([
				{
					alert: {
						event: "rate",
						count: 3,
						hostHours: 10,
						perHostHour: 0.3,
						threshold: 0.25,
						hour: new Date(hour).toISOString(),
					},
				},
				{ alert: { count: 2, hostHours: 4, perHostHour: 0.5 } },
			]);
		} finally {
			await s.done();
		}
	});

	it("alerts when a bucket comes back in a newer version after one without it", async () => {
		const s = await setUp();
		try {
			receiver.got.length = 0;
			// Three crashes in the hour of 1.0: its absence from the hour of 1.1 is not by chance.
			for (let i = 0; i < 3; i++) await ingestCrash(s, MAP, { version: "1.0" });
			await addRule(s, { event: "regressed", service: "api", url: `${receiver.url}/reg` });
			s.clock.now += HOUR;
			await ingestCrash(s, NIL, { version: "1.1" });
			expect(await s.runner.evaluate()).toEqual([]);
			s.clock.now += HOUR;
			await ingestCrash(s, MAP, { version: "1.2" });
			const [alert] = await s.runner.evaluate();
			expect(alert?.event).toBe("regressed");
			expect(await s.runner.evaluate()).toEqual([]);
			await s.runner.deliver();
			expect(receiver.got[0]?.body).toMatchObject({
				alert: {
					event: "regressed",
					version: "1.2",
					lastBefore: "1.0",
					absentIn: ["1.1"],
					expectedInAbsence: 4,
				},
			});
		} finally {
			await s.done();
		}
	});

	it("manages rules through the API: admin tokens only, checked fields, URLs not shown", async () => {
		const s = await setUp();
		try {
			const secretUrl = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
			expect((await addRule(s, { event: "new", url: secretUrl }, s.tokens.read)).json()).toEqual({
				error: {
					code: "forbidden",
					message: "this is a read token; this request needs an admin token",
				},
			});
			const bad: [Record<string, unknown>, string][] = [
				[{ event: "sometimes", url: secretUrl }, "event: give new, regressed, rate"],
				[{ event: "new", url: "ftp://x" }, "url: give the webhook's http:// or https:// URL"],
				[{ event: "rate", url: secretUrl }, "threshold: a rate rule needs"],
				[{ event: "rate", url: secretUrl, threshold: 1, minCount: 0.5 }, "minCount: a whole"],
				[{ event: "new", url: secretUrl, threshold: 1 }, "threshold, minCount: only a rate"],
				[{ event: "new", url: secretUrl, format: "xml" }, "format: give json or slack"],
				[{ event: "new", url: secretUrl, service: "" }, "service: a service name"],
				[{ event: "new", url: secretUrl, colour: "red" }, "colour: not a field of a rule"],
			];
			for (const [rule, message] of bad) {
				const answer = await addRule(s, rule);
				expect(answer.statusCode, JSON.stringify(rule)).toBe(400);
				expect(answer.json().error.message).toContain(message);
			}
			const made = await addRule(s, { event: "new", url: secretUrl });
			expect(made.json().rule).toMatchObject({
				event: "new",
				service: null,
				format: "slack",
				url: "https://hooks.slack.com/…",
			});
			const list = await s.app.inject({
				method: "GET",
				url: "/api/v1/alert-rules",
				headers: { authorization: `Bearer ${s.tokens.read}` },
			});
			expect(list.body).not.toContain("SECRET");
			expect(list.json().rules).toHaveLength(1);
			const remove = (id: string, token = s.tokens.admin) =>
				s.app.inject({
					method: "DELETE",
					url: `/api/v1/alert-rules/${id}`,
					headers: { authorization: `Bearer ${token}` },
				});
			const id = made.json().rule.id as string;
			expect((await remove(id, s.tokens.ingest)).statusCode).toBe(403);
			expect((await remove(id)).json()).toEqual({ deleted: id });
			expect((await remove(id)).statusCode).toBe(404);
			expect(
				(
					await s.app.inject({
						method: "GET",
						url: "/api/v1/alerts?state=lost",
						headers: { authorization: `Bearer ${s.tokens.read}` },
					})
				).json().error.message,
			).toBe("state: give pending, sent, failed, cancelled");
		} finally {
			await s.done();
		}
	});

	it("is run by the server on its own timers", async () => {
		const store = await openSqliteStore(join(dir, `alerts-${n++}.db`));
		const app = createServer({ store, rules, alerts: { evaluateEvery: 20, deliverEvery: 10 } });
		try {
			receiver.got.length = 0;
			const t = newToken("ingest", "i", Date.now());
			await store.createToken(t.record);
			await store.alerts.createRule({
				id: "timers",
				name: "timers",
				service: null,
				event: "new",
				threshold: null,
				minCount: 1,
				url: `${receiver.url}/timers`,
				format: "json",
				created: Date.now() - 1000,
			});
			await app.inject({
				method: "POST",
				url: "/api/v1/crashes",
				headers: { authorization: `Bearer ${t.secret}` },
				payload: { text: NIL, host: "h" },
			});
			for (let i = 0; i < 200 && receiver.got.length === 0; i++)
				await new Promise((done) => setTimeout(done, 10));
			expect(receiver.got.map((r) => r.path)).toEqual(["/timers"]);
		} finally {
			await app.close();
			await store.close();
		}
	});
});
