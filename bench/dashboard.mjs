// Benchmark of the dashboard's overview on a store of a million crashes: the time from navigation
// until the page shows its chart, its top-bucket table and every trend sparkline, in Debian's
// Chromium driven by Playwright against `gocrash serve` on bench/query.mjs's cached store (filled
// first when missing, SQLite only). The peer is the one API read the overview cannot do without,
// GET /api/v1/buckets for the same window, timed from this process over HTTP in the same run.
// Usage: bench/dashboard.sh   (BENCH_RUNS=7)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { root, serve, stopServer, token } from "./_gocrash.mjs";

const runs = Number(process.env.BENCH_RUNS ?? 7);
const cacheDir = join(root, ".cache/bench");

/** The million-crash SQLite store bench/query.mjs keeps (the newest, if several generators made one). */
function findStore() {
	if (!existsSync(cacheDir)) return null;
	const stores = readdirSync(cacheDir)
		.filter((name) => /^query-[0-9a-f]{12}\.sqlite$/.test(name))
		.map((name) => join(cacheDir, name))
		.filter((path) => {
			if (!existsSync(`${path}.json`)) return false;
			return JSON.parse(readFileSync(`${path}.json`, "utf8")).params?.crashes === 1_000_000;
		})
		.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
	return stores[0] ?? null;
}

let db = findStore();
if (db === null) {
	console.log("no cached 1M-crash store: filling it with bench/query.mjs (SQLite, about 26 min)");
	const filled = spawnSync(process.execPath, [join(root, "bench/query.mjs")], {
		stdio: "inherit",
		env: { ...process.env, BENCH_BACKENDS: "sqlite", BENCH_RUNS: "1" },
	});
	if (filled.status !== 0) throw new Error("bench/query.mjs failed");
	db = findStore();
	if (db === null) throw new Error("bench/query.mjs left no 1M-crash store in .cache/bench");
}

const read = token(db, "read");
const server = await serve(db);
const browser = await chromium.launch({
	executablePath: "/usr/bin/chromium",
	headless: true,
	args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
try {
	const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
	await page.goto(`${server.url}/login`);
	await page.fill("input[name=token]", read);
	await page.click("button[type=submit]");
	await page.waitForURL((u) => u.pathname !== "/login");

	const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
	console.log(`overview of ${db.split("/").at(-1)} (1,000,000 crashes), ${runs} runs, ms:`);
	console.log("view                          page median  max    buckets API median  ratio");
	for (const [name, query] of [
		["7 days (the default)", "window=7d"],
		["30 days", "window=30d"],
		["30 days, goarch=arm64", "window=30d&goarch=arm64"],
	]) {
		const pageMs = [];
		const apiMs = [];
		let rows = 0;
		for (let i = 0; i < runs; i++) {
			await page.goto(`${server.url}/?${query}`);
			// Shown: the chart drawn, the table filled, and a sparkline in every row.
			await page.waitForFunction(
				() => {
					const rows = document.querySelectorAll("table.buckets tbody tr").length;
					return (
						document.querySelector(".chart canvas") !== null &&
						rows > 0 &&
						document.querySelectorAll("table.buckets svg.spark").length === rows
					);
				},
				null,
				{ polling: "raf", timeout: 120_000 },
			);
			pageMs.push(await page.evaluate(() => performance.now()));
			rows = await page.locator("table.buckets tbody tr").count();
			const params = new URLSearchParams(query);
			const days = Number(params.get("window")?.replace("d", ""));
			params.delete("window");
			params.set("from", new Date(Date.now() - days * 86_400_000).toISOString());
			params.set("limit", "20");
			const started = performance.now();
			const res = await fetch(`${server.url}/api/v1/buckets?${params}`, {
				headers: { authorization: `Bearer ${read}` },
			});
			const body = await res.json();
			apiMs.push(performance.now() - started);
			if (body.buckets.length !== rows)
				throw new Error(
					`${name}: the page shows ${rows} buckets, the API gives ${body.buckets.length}`,
				);
		}
		if (rows === 0) throw new Error(`${name}: no buckets shown`);
		const p = median(pageMs);
		const a = median(apiMs);
		console.log(
			`${name.padEnd(30)}${p.toFixed(0).padStart(11)}  ${Math.max(...pageMs)
				.toFixed(0)
				.padStart(5)}  ${a.toFixed(0).padStart(18)}  ${(p / a).toFixed(1).padStart(5)}x`,
		);
	}
} finally {
	await browser.close();
	await stopServer(server);
}
