import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { OTLPLogExporter as JsonExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as ProtobufExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batches, exported, records } from "./_otlp.js";
import { createToken, type Server, serve, waitFor } from "./_serve.js";
import { startPostgres } from "./postgres.js";

// End to end: the OpenTelemetry SDK's own OTLP/HTTP exporters, JSON and protobuf, sending crash
// texts a line per log record to the built `gocrash serve`, on SQLite and on a real PostgreSQL.
const FIXTURES = join(import.meta.dirname, "fixtures/crashes");
const PANIC = readFileSync(join(FIXTURES, "go1.26.10-amd64/goroutine-panic.all.txt"), "utf8");
const INTERLEAVED = readFileSync(join(FIXTURES, "go1.24.4-amd64/log-interleaved.all.txt"), "utf8");
const MAP = readFileSync(join(FIXTURES, "go1.26.10-amd64/concurrent-map-writes.all.txt"), "utf8");
const T0 = Date.UTC(2026, 11, 4, 9);
const QUIET_S = 2;

const scratch = mkdtempSync(join(tmpdir(), "gocrash-otlp-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const logLines = (n: number, tag: string) =>
	Array.from(
		{ length: n },
		(_, i) => `time=2026-12-04T09:00:0${i % 10}Z level=info msg="${tag} ${i}"`,
	);

interface Crash {
	id: string;
	bucket: string;
	host: string;
	service: string;
	version: string;
	time: string;
	message: string;
}

async function crashesOf(server: Server, read: string, host: string): Promise<Crash[]> {
	const res = await fetch(
		`${server.url}/api/v1/crashes?host=${host}&from=0&to=${T0 + 86_400_000}`,
		{
			headers: { authorization: `Bearer ${read}` },
		},
	);
	expect(res.status).toBe(200);
	return ((await res.json()) as { crashes: Crash[] }).crashes;
}

async function attributesOf(
	server: Server,
	read: string,
	id: string,
): Promise<Record<string, unknown>> {
	const res = await fetch(`${server.url}/api/v1/crashes/${id}`, {
		headers: { authorization: `Bearer ${read}` },
	});
	return ((await res.json()) as { attributes: Record<string, unknown> }).attributes;
}

/** Waits for the host's crashes to number `n` (the quiet sweep runs every few hundred ms). */
const settled = (server: Server, read: string, host: string, n: number): Promise<Crash[]> =>
	waitFor(`${n} crashes from ${host}`, async () => {
		const found = await crashesOf(server, read, host);
		return found.length >= n ? found : undefined;
	});

/** The bucket the crashes API gives a text posted whole. */
async function bucketOf(server: Server, ingest: string, text: string): Promise<string> {
	const res = await fetch(`${server.url}/api/v1/crashes`, {
		method: "POST",
		headers: { authorization: `Bearer ${ingest}`, "content-type": "text/plain" },
		body: text,
	});
	return ((await res.json()) as { crashes: { bucket: string }[] }).crashes[0]?.bucket ?? "";
}

describe.each([
	["sqlite", async () => ({ db: join(scratch, "otlp.db"), stop: async () => {} })],
	[
		"postgres",
		async () => {
			const pg = await startPostgres();
			return { db: pg.url, stop: pg.stop };
		},
	],
] as const)("POST /v1/logs on %s", (_, open) => {
	let server: Server;
	let db = "";
	let stop: () => Promise<void>;
	let ingest = "";
	let read = "";
	let json: JsonExporter;
	let protobuf: ProtobufExporter;
	beforeAll(async () => {
		const opened = await open();
		db = opened.db;
		stop = opened.stop;
		ingest = createToken(opened.db, "ingest");
		read = createToken(opened.db, "read");
		server = await serve(opened.db, "--log-quiet", String(QUIET_S), "--max-body", "2000000");
		const headers = { Authorization: `Bearer ${ingest}` };
		json = new JsonExporter({ url: `${server.url}/v1/logs`, headers });
		protobuf = new ProtobufExporter({
			url: `${server.url}/v1/logs`,
			headers,
			compression: "gzip" as NonNullable<
				NonNullable<ConstructorParameters<typeof ProtobufExporter>[0]>["compression"]
			>,
		});
	}, 60_000);
	afterAll(async () => {
		await Promise.all([json?.shutdown(), protobuf?.shutdown()]);
		server?.process.kill("SIGTERM");
		await server?.exited;
		await stop?.();
	});

	it("cuts each crash out once from records split over many requests of two interleaved streams, and again not at all", async () => {
		const billing = await records(
			{
				"host.name": "web-1",
				"service.name": "billing",
				"service.version": "4.2.0",
				region: "eu-west",
				"host.arch": "amd64",
			},
			[
				...logLines(30, "billing"),
				...PANIC.trimEnd().split("\n"),
				...logLines(5, "billing restarted"),
			],
			T0,
		);
		const cart = await records(
			{ "host.name": "web-2", "service.name": "cart", "k8s.pod.name": "cart-7d9f" },
			[
				...logLines(10, "cart"),
				...INTERLEAVED.trimEnd().split("\n"),
				...logLines(3, "cart restarted"),
			],
			T0 + 5,
		);
		const a = batches(billing, 7);
		const b = batches(cart, 700);
		expect(a.length).toBeGreaterThan(5);
		expect(b.length).toBeGreaterThan(5);
		const send = async () => {
			for (let i = 0; i < Math.max(a.length, b.length); i++)
				await Promise.all([
					a[i] === undefined ? null : exported(json, a[i] as ReadableLogRecord[]),
					b[i] === undefined ? null : exported(protobuf, b[i] as ReadableLogRecord[]),
				]);
		};
		await send();
		const [one, ...more] = await settled(server, read, "web-1", 1);
		expect(more).toEqual([]);
		expect(one).toMatchObject({
			service: "billing",
			version: "4.2.0",
			message: "panic: worker 3: queue closed",
			time: new Date(T0 + 30).toISOString(),
		});
		expect(await attributesOf(server, read, (one as Crash).id)).toMatchObject({
			region: "eu-west",
			goarch: "amd64",
			"host.arch": "amd64",
			"log.iostream": "stderr",
		});
		const [two, ...others] = await settled(server, read, "web-2", 1);
		expect(others).toEqual([]);
		expect(two).toMatchObject({ service: "cart", message: "panic: lost the connection pool" });
		const cartAttributes = await attributesOf(server, read, (two as Crash).id);
		expect(cartAttributes).toMatchObject({ "k8s.pod.name": "cart-7d9f" });
		expect(cartAttributes.truncated).toBeUndefined();

		// The same records exported again, once their streams were ended as quiet: nothing new.
		await new Promise((r) => setTimeout(r, (QUIET_S + 1) * 1000));
		await send();
		await new Promise((r) => setTimeout(r, (QUIET_S + 1) * 1000));
		expect((await crashesOf(server, read, "web-1")).map((c) => c.id)).toEqual([(one as Crash).id]);
		expect((await crashesOf(server, read, "web-2")).map((c) => c.id)).toEqual([(two as Crash).id]);

		// The same buckets as the crashes API gives the texts posted whole.
		expect(one?.bucket).toBe(await bucketOf(server, ingest, PANIC));
		expect(two?.bucket).toBe(await bucketOf(server, ingest, INTERLEAVED));
	}, 120_000);

	it("gives one crash from a stream whose requests alternate between two servers on the database", async () => {
		const second = await serve(db, "--log-quiet", String(QUIET_S));
		try {
			const other = new JsonExporter({
				url: `${second.url}/v1/logs`,
				headers: { Authorization: `Bearer ${ingest}` },
			});
			const stream = await records(
				{ "host.name": "web-4", "service.name": "edge", "process.pid": 77 },
				[...logLines(5, "edge"), ...PANIC.trimEnd().split("\n"), ...logLines(2, "edge")],
				T0 + 200,
			);
			for (const [i, batch] of batches(stream, 2).entries())
				await exported(i % 2 === 0 ? json : other, batch);
			const [crash, ...more] = await settled(server, read, "web-4", 1);
			expect(more).toEqual([]);
			expect(crash).toMatchObject({
				message: "panic: worker 3: queue closed",
				time: new Date(T0 + 205).toISOString(),
			});
			expect(crash?.bucket).toBe(await bucketOf(server, ingest, PANIC));
			// Each request sent to both servers at once, as by an exporter that retried on another
			// server: one of the two writes each batch, the other finds it written.
			const twice = await records(
				{ "host.name": "web-5", "service.name": "edge", "process.pid": 78 },
				[...logLines(5, "edge"), ...PANIC.trimEnd().split("\n"), ...logLines(2, "edge")],
				T0 + 300,
			);
			for (const batch of batches(twice, 3))
				await Promise.all([exported(json, batch), exported(other, batch)]);
			const [once, ...again] = await settled(server, read, "web-5", 1);
			expect(again).toEqual([]);
			expect(once).toMatchObject({
				message: "panic: worker 3: queue closed",
				bucket: crash?.bucket,
			});
			await other.shutdown();
		} finally {
			second.process.kill("SIGTERM");
			await second.exited;
		}
	}, 60_000);

	it("stores a crash that stops mid-way, truncated, once its stream has been quiet", async () => {
		// Up to a function line whose file line never comes.
		const lines = MAP.split("\n").slice(0, 8);
		expect(lines.at(-1)).toBe("main.mapRace.func2()");
		const half = await records(
			{ "host.name": "web-3", "service.name": "cache" },
			[...logLines(3, "cache"), ...lines],
			T0 + 100,
		);
		for (const batch of batches(half, 4)) await exported(json, batch);
		expect(await crashesOf(server, read, "web-3")).toEqual([]);
		const [crash, ...more] = await settled(server, read, "web-3", 1);
		expect(more).toEqual([]);
		expect(crash).toMatchObject({
			message: "fatal error: concurrent map writes",
			time: new Date(T0 + 103).toISOString(),
		});
		expect(await attributesOf(server, read, (crash as Crash).id)).toMatchObject({
			truncated: "true",
		});
	}, 60_000);
});

describe("POST /v1/logs refuses", () => {
	let server: Server;
	let ingest = "";
	let read = "";
	beforeAll(async () => {
		const db = join(scratch, "refuses.db");
		ingest = createToken(db, "ingest");
		read = createToken(db, "read");
		server = await serve(db, "--max-body", "100000");
	}, 60_000);
	afterAll(async () => {
		server?.process.kill("SIGTERM");
		await server?.exited;
	});
	const post = (body: string | Uint8Array, type: string, headers: Record<string, string> = {}) =>
		fetch(`${server.url}/v1/logs`, {
			method: "POST",
			headers: { authorization: `Bearer ${ingest}`, "content-type": type, ...headers },
			body,
		});

	it("undecodable bodies with 400 and a one-line status naming what and where", async () => {
		const bad = await post(
			'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": 7}}]}]}]}',
			"application/json",
		);
		expect(bad.status).toBe(400);
		expect(await bad.json()).toEqual({
			code: 3,
			message:
				"resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue: must be a string, not 7",
		});
		const cut = await post(new Uint8Array([0x0a, 0x10, 0x0a]), "application/x-protobuf");
		expect(cut.status).toBe(400);
		expect(cut.headers.get("content-type")).toBe("application/x-protobuf");
		expect(Buffer.from(await cut.arrayBuffer()).toString("latin1")).toContain(
			"body is not a protobuf ExportLogsServiceRequest: a field runs past the end of the 3-byte body",
		);
		const gzip = await post("not gzip", "application/json", { "content-encoding": "gzip" });
		expect(gzip.status).toBe(400);
		expect(((await gzip.json()) as { message: string }).message).toMatch(
			/^body is not valid gzip: /,
		);
	});

	it("other content types with 415, bodies over the limit with 413, and tokens that may not ingest", async () => {
		const text = await post("panic: x", "text/plain");
		expect(text.status).toBe(415);
		expect(await text.json()).toEqual({
			code: 3,
			message:
				"Content-Type 'text/plain' is not OTLP/HTTP: send application/json or application/x-protobuf",
		});
		const big = await post(
			gzipSync(`{"resourceLogs": [], "x": "${"a".repeat(200_000)}"}`),
			"application/json",
			{
				"content-encoding": "gzip",
			},
		);
		expect(big.status).toBe(413);
		const asReader = await post("{}", "application/json", { authorization: `Bearer ${read}` });
		expect(asReader.status).toBe(403);
		expect(((await asReader.json()) as { message: string }).message).toBe(
			"this is a read token; this request needs an ingest token",
		);
		expect(
			(await post("{}", "application/json", { authorization: "Bearer gct_ingest_nope" })).status,
		).toBe(401);
		// A body with no text is not an error: OTLP's partial success says which records were not read.
		const partial = await post(
			JSON.stringify({
				resourceLogs: [
					{
						scopeLogs: [
							{ logRecords: [{ body: { stringValue: "fine" } }, { body: { arrayValue: {} } }] },
						],
					},
				],
			}),
			"application/json",
		);
		expect(partial.status).toBe(200);
		expect(await partial.json()).toEqual({
			partialSuccess: {
				rejectedLogRecords: "1",
				errorMessage:
					"1 log record holds no text (a body that is an array, or a map without a log, message or msg string), the first at resourceLogs[0].scopeLogs[0].logRecords[1]",
			},
		});
	});
});
