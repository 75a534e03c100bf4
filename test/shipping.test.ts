import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { afterAll, describe, expect, test } from "vitest";
import { buildGoClient, toolchain } from "./_goclient.js";
import { bucketOf, cri, fixture, logLines } from "./_logs.js";
import { exported, records } from "./_otlp.js";
import {
	type Collector,
	freePort,
	type Server,
	type StoredCrash,
	serve,
	startCollect,
	storedCrashes,
	createToken as token,
	waitFor,
} from "./_serve.js";

// The proof of the shipping side: a real `gocrash serve`, a `gocrash collect` following a log file
// and a CRI log directory, a crashing Go program that uses the client, and the OpenTelemetry SDK's
// OTLP exporter sending a crash a line per log record, with the server and the collector killed
// (SIGKILL) and restarted in the middle. Every crash must arrive exactly once, with its
// attributes, and the collector's heartbeats must give the hour its per-host-hour rate.
const scratch = mkdtempSync(join(tmpdir(), "gocrash-shipping-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the Go client's test program in `mode`; resolves with its standard error once it and its monitor are done. */
function crashProgram(bin: string, mode: string, env: Record<string, string>): Promise<string> {
	const child = spawn(bin, [mode], {
		env: { PATH: process.env.PATH ?? "", ...env },
		stdio: ["ignore", "ignore", "pipe"],
	});
	let stderr = "";
	child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
	return new Promise((done) => child.on("close", () => done(stderr)));
}

describe("shipping, end to end", () => {
	test("log file, CRI logs, the Go client and OTLP logs: every crash exactly once with its attributes, through SIGKILLs of the server and the collector; heartbeats give per-host-hour rates", async () => {
		const { go, why } = toolchain("1.26");
		if (go === null) throw new Error(`no Go 1.26 toolchain: ${why}`);
		const program = join(scratch, "goclient");
		await buildGoClient(go, "amd64", program);

		const db = join(scratch, "fleet.db");
		const ingest = token(db, "ingest");
		const read = token(db, "read");
		const port = await freePort();
		const url = `http://127.0.0.1:${port}`;
		const startServer = () => serve(db, "--listen", `127.0.0.1:${port}`, "--log-quiet", "2");
		let server: Server = await startServer();

		const logs = join(scratch, "var/log/app");
		const pod = join(
			scratch,
			"var/log/pods/shop_cart-7d9f_0b1c2d3e-aaaa-bbbb-cccc-1234567890ab/cart",
		);
		const clientSpool = join(scratch, "client-spool");
		mkdirSync(logs, { recursive: true });
		mkdirSync(pod, { recursive: true });
		const app = join(logs, "app.log");
		const podLog = join(pod, "0.log");
		const args = [
			app,
			join(scratch, "var/log/pods/*/*/*.log"),
			"--server",
			url,
			"--state",
			join(scratch, "state"),
			"--pickup",
			clientSpool,
			"--host",
			"node-1",
			"--attr",
			"region=proof",
			"--quiet",
			"1",
			"--heartbeat",
			"1",
			"--from-start",
		];
		const env = { GOCRASH_TOKEN: ingest };
		let collector: Collector = startCollect(args, env);
		/** Each crash sent, by the bucket it must arrive in, with who sent it. */
		const expected = new Map<string, string>();
		const logged = (name: string) => expected.set(bucketOf(fixture(name)), `log file: ${name}`);
		const clientEnv = (host: string) => ({
			GOCRASH_E2E_SERVER: url,
			GOCRASH_E2E_TOKEN: ingest,
			GOCRASH_E2E_HOST: host,
			GOCRASH_E2E_SERVICE: "checkout",
			GOCRASH_E2E_SPOOL: clientSpool,
			GOCRASH_E2E_RETRY: "1s",
		});
		const arrived = (n: number) =>
			waitFor(
				`${n} crashes`,
				async () => {
					const found = await storedCrashes(url, read);
					return found.length >= n ? found : undefined;
				},
				30_000,
			);

		// Everything up: a crash between log lines, one in a pod's log, one from the Go client.
		appendFileSync(app, logLines(5, "start") + fixture("nil-map-write") + logLines(3, "after"));
		logged("nil-map-write");
		appendFileSync(podLog, cri(fixture("index-out-of-range")));
		expected.set(bucketOf(fixture("index-out-of-range")), "CRI log");
		const direct = await crashProgram(program, "nil", clientEnv("svc-1"));
		expected.set(bucketOf(direct), "Go client, posted");
		// An OTLP stream: the first half of a crash, between log lines, now; the rest after the
		// server was killed and started again.
		const otlp = new OTLPLogExporter({
			url: `${url}/v1/logs`,
			headers: { Authorization: `Bearer ${ingest}` },
		});
		const ledger = fixture("concurrent-map-writes");
		const otlpRecords = await records(
			{ "host.name": "otel-1", "service.name": "ledger", "k8s.pod.name": "ledger-0" },
			[...logLines(4, "ledger").trimEnd().split("\n"), ...ledger.trimEnd().split("\n")],
			Date.now(),
		);
		const half = Math.floor(otlpRecords.length / 2);
		await exported(otlp, otlpRecords.slice(0, half));
		expected.set(bucketOf(ledger), "OTLP logs, across a server restart");
		await arrived(3);

		// The server is killed: the collector spools what it cuts, the client's monitor gives up
		// after its retry time and spools its crash; then the collector is killed too, and more is
		// written while both are down.
		server.process.kill("SIGKILL");
		await server.exited;
		appendFileSync(app, fixture("custom-error"));
		logged("custom-error");
		const spooled = await crashProgram(program, "map-writes", clientEnv("svc-2"));
		expected.set(bucketOf(spooled), "Go client, spooled");
		expect(readdirSync(clientSpool).filter((n) => n.endsWith(".json")).length).toBe(1);
		await waitFor("the collector to spool", () =>
			collector.log.some((l) => l.startsWith("gocrash collect: cannot send")) ? true : undefined,
		);
		collector.process.kill("SIGKILL");
		await collector.exited;
		appendFileSync(podLog, cri(fixture("divide-by-zero")));
		expected.set(
			bucketOf(fixture("divide-by-zero")),
			"CRI log, written while the collector was down",
		);
		appendFileSync(app, logLines(2, "restart") + fixture("slice-bounds"));
		logged("slice-bounds");

		collector = startCollect(args, env);
		server = await startServer();
		await exported(otlp, otlpRecords.slice(half));
		await arrived(expected.size);
		// Nothing more arrives later: no crash was stored twice.
		await new Promise((done) => setTimeout(done, 3000));
		const crashes = await storedCrashes(url, read);
		expect(crashes.map((c) => expected.get(c.bucket) ?? `unexpected ${c.bucket}`).sort()).toEqual(
			[...expected.values()].sort(),
		);

		const by = (what: string): StoredCrash => {
			const crash = crashes.find((c) => expected.get(c.bucket) === what);
			if (crash === undefined) throw new Error(`no crash from ${what}`);
			return crash;
		};
		for (const what of [
			"log file: nil-map-write",
			"log file: custom-error",
			"log file: slice-bounds",
		])
			expect(by(what)).toMatchObject({
				host: "node-1",
				attributes: { region: "proof", goarch: expect.any(String), kernel: expect.any(String) },
			});
		for (const what of ["CRI log", "CRI log, written while the collector was down"])
			expect(by(what)).toMatchObject({
				host: "node-1",
				service: "cart",
				attributes: {
					region: "proof",
					"k8s.namespace.name": "shop",
					"k8s.pod.name": "cart-7d9f",
					"k8s.container.name": "cart",
				},
			});
		for (const [what, host] of [
			["Go client, posted", "svc-1"],
			["Go client, spooled", "svc-2"],
		] as const)
			expect(by(what)).toMatchObject({
				host,
				service: "checkout",
				version: "3.1.4",
				attributes: {
					region: "e2e-west",
					mainModule: "goclient",
					goVersion: expect.stringMatching(/^1\.26/),
				},
			});
		expect(readdirSync(clientSpool).filter((n) => n.endsWith(".json"))).toEqual([]);
		expect(by("OTLP logs, across a server restart")).toMatchObject({
			host: "otel-1",
			service: "ledger",
			attributes: { "k8s.pod.name": "ledger-0" },
		});
		await otlp.shutdown();

		// The collector's heartbeats: node-1 is counted this hour, and the hour's rate is its crashes
		// over its host-hours.
		const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
		const res = await fetch(`${url}/api/v1/rates?from=${hour}&interval=hour`, {
			headers: { authorization: `Bearer ${read}` },
		});
		expect(res.status).toBe(200);
		const { series } = (await res.json()) as {
			series: { t: string; count: number; hostHours: number; perHostHour: number | null }[];
		};
		const now = series.find((p) => p.t === hour);
		expect(now?.hostHours).toBeGreaterThan(0);
		expect(now?.count).toBe(crashes.filter((c) => c.time >= hour).length);
		expect(now?.perHostHour).toBeCloseTo((now?.count ?? 0) / (now?.hostHours ?? 1));

		collector.process.kill("SIGTERM");
		expect(await collector.exited).toBe(0);
		server.process.kill("SIGTERM");
		await server.exited;
	}, 240_000);
});
