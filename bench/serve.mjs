// Benchmark of the fleet service (`gocrash serve`), driven from this process with autocannon on
// loopback while the server runs as its own process. Run by bench/serve.sh; see there for what it
// reports. Every figure is measured in this run; the peer is the same server answering
// GET /healthz, the most an HTTP request costs on this machine with this framework.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { root, serve, stopServer, token } from "./_gocrash.mjs";

const duration = Number(process.env.BENCH_SECONDS ?? 15);
const pgUrl = process.env.BENCH_POSTGRES;

// Real crash texts of 2-30 KB that hold one crash each, from every toolchain and both arches.
function texts() {
	const out = [];
	const dir = join(root, "test/fixtures/crashes");
	for (const sub of readdirSync(dir)
		.filter((d) => d.startsWith("go"))
		.sort())
		for (const name of readdirSync(join(dir, sub)).sort()) {
			if (!name.endsWith(".txt") || name.startsWith("race")) continue;
			const text = readFileSync(join(dir, sub, name), "utf8");
			if (text.length >= 2000 && text.length <= 30_000) out.push(text);
		}
	return out;
}

function run(options) {
	return new Promise((done, fail) =>
		autocannon({ duration, connections: 32, pipelining: 1, ...options }, (error, result) =>
			error ? fail(error) : done(result),
		),
	);
}

/**
 * Offered load: request i is sent at start + i/rate whether or not the earlier ones were answered
 * (open loop), and its latency counted from then. autocannon's rate option is not this: each
 * connection sends its quota for the second back to back and then waits for the next second, and
 * its correction for coordinated omission takes the expected interval as 1 ms whatever the rate.
 */
async function openLoop(url, requests, rate) {
	const { hostname, port } = new URL(url);
	// Idle sockets are closed here after 4 s, before the server's 5 s keep-alive timeout closes
	// them: a request sent on a socket the server is closing fails without reaching it.
	const agent = new http.Agent({ keepAlive: true, maxSockets: 512, timeout: 4000 });
	const bodies = requests.map((r) => Buffer.from(r.body));
	const total = rate * duration;
	const latencies = [];
	const result = { "2xx": 0, non2xx: 0, errors: 0, duration };
	const start = performance.now();
	await new Promise((done) => {
		let sent = 0;
		let finished = 0;
		const finish = () => {
			if (++finished === total) done();
		};
		const tick = () => {
			for (; sent < total && start + (sent * 1000) / rate <= performance.now(); sent++) {
				const due = start + (sent * 1000) / rate;
				const r = requests[sent % requests.length];
				const body = bodies[sent % requests.length];
				const req = http.request(
					{
						hostname,
						port,
						path: r.path,
						method: r.method,
						headers: { ...r.headers, "content-length": body.length },
						agent,
					},
					(res) => {
						res.resume();
						res.on("end", () => {
							if (res.statusCode >= 200 && res.statusCode < 300) {
								result["2xx"]++;
								latencies.push(performance.now() - due);
							} else result.non2xx++;
							finish();
						});
					},
				);
				req.on("error", (error) => {
					if (result.errors++ === 0) console.error(`open loop: ${error.message}`);
					finish();
				});
				req.end(body);
			}
			if (sent < total) setTimeout(tick, 1);
		};
		tick();
	});
	agent.destroy();
	result.duration = (performance.now() - start) / 1000;
	latencies.sort((a, b) => a - b);
	const at = (q) =>
		Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
	result.latency = { p50: at(0.5), p99: at(0.99) };
	return result;
}

function crashRequests(bodies, ingest) {
	return bodies.map((text, i) => ({
		method: "POST",
		path: "/api/v1/crashes",
		headers: { authorization: `Bearer ${ingest}`, "content-type": "application/json" },
		body: JSON.stringify({
			text,
			host: `host-${i % 300}`,
			service: `svc-${i % 5}`,
			attributes: { region: `r${i % 4}` },
		}),
	}));
}

function report(label, result, per = 1) {
	const ok = result["2xx"];
	const rate = (ok * per) / result.duration;
	console.log(
		`${label.padEnd(44)} ${rate.toFixed(0).padStart(7)}/s  p50 ${String(result.latency.p50).padStart(4)} ms  p99 ${String(result.latency.p99).padStart(4)} ms  non-2xx ${result.non2xx} errors ${result.errors}`,
	);
	return rate;
}

async function ingestRuns(db, label, servers) {
	const ingest = token(db, "ingest");
	const running = [];
	for (let i = 0; i < servers; i++) running.push(await serve(db));
	const bodies = texts();
	const per = running.map((s) =>
		run({ url: s.url, requests: crashRequests(bodies, ingest), connections: 32 / servers }),
	);
	const results = await Promise.all(per);
	const merged = {
		"2xx": results.reduce((n, r) => n + r["2xx"], 0),
		non2xx: results.reduce((n, r) => n + r.non2xx, 0),
		errors: results.reduce((n, r) => n + r.errors, 0),
		duration: Math.max(...results.map((r) => r.duration)),
		latency: results[0].latency,
	};
	const rate = report(`crashes, ${label}, ${servers} server(s), max`, merged);
	if (servers === 1) {
		const offered = await openLoop(running[0].url, crashRequests(bodies, ingest), 1000);
		report(`crashes, ${label}, offered 1000/s`, offered);
		const healthz = await run({ url: `${running[0].url}/healthz` });
		const peer = report(`peer: GET /healthz, ${label}`, healthz);
		console.log(`ingest / healthz: ${(rate / peer).toFixed(3)}x`);
		const one = (i) =>
			JSON.stringify({
				host: `host-${i % 1000}`,
				service: "svc",
				version: "1",
				attributes: { region: `r${i % 4}` },
			});
		const heartbeat = await run({
			url: running[0].url,
			requests: Array.from({ length: 1000 }, (_, i) => ({
				method: "POST",
				path: "/api/v1/heartbeats",
				headers: { authorization: `Bearer ${ingest}`, "content-type": "application/json" },
				body: one(i),
			})),
		});
		report(`heartbeats, ${label}, one per request`, heartbeat);
		const batch = await run({
			url: running[0].url,
			requests: [
				{
					method: "POST",
					path: "/api/v1/heartbeats",
					headers: { authorization: `Bearer ${ingest}`, "content-type": "application/json" },
					body: `{"heartbeats":[${Array.from({ length: 100 }, (_, i) => one(i)).join(",")}]}`,
				},
			],
		});
		report(`heartbeats, ${label}, 100 per request`, batch, 100);
	}
	for (const s of running) await stopServer(s);
}

const work = mkdtempSync(join(tmpdir(), "gocrash-bench-"));
try {
	await ingestRuns(join(work, "sqlite.db"), "SQLite", 1);
	if (pgUrl !== undefined) {
		await ingestRuns(pgUrl, "PostgreSQL", 1);
		await ingestRuns(pgUrl, "PostgreSQL", 2);
	}
} finally {
	rmSync(work, { recursive: true, force: true });
}
