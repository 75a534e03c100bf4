// Benchmark of the fleet service's reads on a store of a million crashes. Run by bench/query.sh;
// see there for what it reports. The store is filled through the store's own insertCrashes and
// insertHeartbeats with crashes prepared once from the real fixture texts by the server's own
// prepareReport, then varied per copy; the filled database is kept under .cache/bench/, keyed by
// the generator's parameters. `gocrash serve` then runs as its own process and every read is timed
// over HTTP from this one, with the same server's GET /healthz as the peer.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
	chownSync,
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { root, serve, stopServer, token } from "./_gocrash.mjs";

const cacheDir = join(root, ".cache/bench");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const env = (name, fallback) => Number(process.env[name] ?? fallback);
/** Everything the generated store depends on: the cache key. */
const params = {
	generator: 2,
	crashes: env("BENCH_CRASHES", 1_000_000),
	hosts: env("BENCH_HOSTS", 3000),
	services: 8,
	versionsPerService: 4,
	days: env("BENCH_DAYS", 90),
	buckets: env("BENCH_BUCKETS", 2000),
	zipf: 1.1,
	heartbeatHosts: env("BENCH_HEARTBEAT_HOSTS", 3000),
	heartbeatDays: env("BENCH_HEARTBEAT_DAYS", 30),
	end: Date.UTC(2026, 11, 1),
	seed: 1,
};
const runs = env("BENCH_RUNS", 7);
const backends = (process.env.BENCH_BACKENDS ?? "sqlite,postgres").split(",");
const key = createHash("sha256").update(JSON.stringify(params)).digest("hex").slice(0, 12);
const label = `${params.crashes} crashes, ${params.hosts} hosts, ${params.days} days, ${params.buckets} buckets`;

// ---------------------------------------------------------------------------------------------
// The fleet

/** mulberry32: a small seeded generator, so that every fill makes the same store. */
function random(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
	};
}
const pickFrom = (r, xs) => xs[Math.floor(r() * xs.length)];
const hex = (s, n = 16) => createHash("sha256").update(s).digest("hex").slice(0, n);

const SERVICES = [
	"edge-proxy",
	"auth",
	"cache",
	"ingest",
	"billing",
	"search",
	"scheduler",
	"notify",
];
const REGIONS = ["us-east", "us-west", "eu-west", "eu-central", "ap-south", "ap-northeast"];
const KERNELS = ["5.15.0-105", "5.15.0-119", "6.1.0-21", "6.1.0-25", "6.8.0-40"];
const INSTANCES = {
	arm64: ["c7g.xlarge", "c7g.2xlarge", "m7g.xlarge"],
	amd64: ["c6i.xlarge", "c6i.2xlarge", "m6i.xlarge"],
};
const RUNTIMES = ["containerd-1.7.13", "containerd-1.7.20", "cri-o-1.29.4"];

/** The hosts: each runs one service on one architecture in one zone. */
function makeHosts(r) {
	const hosts = [];
	for (let i = 0; i < params.hosts; i++) {
		const region = REGIONS[i % REGIONS.length];
		const goarch = i % 2 === 0 ? "amd64" : "arm64";
		const service = SERVICES[Math.floor(r() * params.services) % SERVICES.length];
		const zone = `${region}-${"abc"[Math.floor(r() * 3)]}`;
		hosts.push({
			name: `${region}-${String(i).padStart(4, "0")}`,
			service,
			goarch,
			region,
			zone,
			kernel: pickFrom(r, KERNELS),
			instance: pickFrom(r, INSTANCES[goarch]),
			cluster: `${region}-k8s-${1 + Math.floor(r() * 3)}`,
			runtime: pickFrom(r, RUNTIMES),
			pod: `${service}-${hex(`pod${i}`, 10)}`,
			// Hours after a release that this host takes it.
			lag: Math.floor(r() * 72),
		});
	}
	return hosts;
}

/** A service's releases over the window, and the version a host runs at a time. */
function versionAt(host, time, start) {
	const s = SERVICES.indexOf(host.service);
	const span = (params.days * DAY) / params.versionsPerService;
	let v = 0;
	for (let k = 1; k < params.versionsPerService; k++)
		if (time >= start + k * span + s * 6 * HOUR + host.lag * HOUR) v = k;
	return `${1 + s}.${10 + v}.${v % 3}`;
}

/** Attributes a host sends with its crashes (the extracted ones come from the text). */
const senderAttributes = (h) => [
	["region", h.region],
	["zone", h.zone],
	["kernel", h.kernel],
	["instanceType", h.instance],
	["cluster", h.cluster],
	["runtime", h.runtime],
	["pod", h.pod],
];
/** Attributes a host sends with its heartbeats. */
const heartbeatAttributes = (h) => [
	["region", h.region],
	["zone", h.zone],
	["kernel", h.kernel],
	["instanceType", h.instance],
	["cluster", h.cluster],
	["goarch", h.goarch],
];

/** Every fixture text prepared once by the server's own prepareReport: the crash templates. */
async function templates() {
	const { prepareReport } = await import(join(root, "dist/server/index.js"));
	const { builtinRulesDir, loadRules } = await import(join(root, "dist/cli/diagnose.js"));
	const { rules } = await loadRules([builtinRulesDir]);
	const dir = join(root, "test/fixtures/crashes");
	const out = [];
	for (const sub of readdirSync(dir)
		.filter((d) => d.startsWith("go"))
		.sort())
		for (const name of readdirSync(join(dir, sub))
			.filter((n) => n.endsWith(".txt"))
			.sort()) {
			const text = readFileSync(join(dir, sub, name), "utf8");
			const meta = JSON.parse(
				readFileSync(join(dir, sub, name.replace(/\.txt$/, ".meta.json")), "utf8"),
			);
			if (meta.goarch !== "amd64" && meta.goarch !== "arm64") continue;
			// As the fleet's client sends them: the host knows its GOARCH and the build's Go version.
			const given = [
				["goarch", meta.goarch],
				["goVersion", meta.goVersion],
			];
			let prepared;
			try {
				prepared = prepareReport(
					{
						text,
						kind: "fatal",
						time: 0,
						host: "",
						service: "",
						version: "",
						attributes: given,
						idempotencyKey: null,
					},
					{ rules, maxCrashes: 100, now: () => 0 },
				);
			} catch {
				continue; // A fixture with no crash in it (a goroutine dump parses, a note does not).
			}
			out.push({ ...prepared[0], goarch: meta.goarch, file: `${sub}/${name}` });
		}
	return out;
}

/**
 * The buckets: each a signature group of the fixtures (one scenario on every toolchain and
 * architecture) made into a distinct bucket, weighted by a Zipf law over its rank.
 */
function makeBuckets(r, tpls) {
	const groups = new Map();
	for (const t of tpls) {
		const g = groups.get(t.signature.id) ?? [];
		g.push(t);
		groups.set(t.signature.id, g);
	}
	const list = [...groups.values()];
	const buckets = [];
	let total = 0;
	for (let b = 0; b < params.buckets; b++) {
		const group = list[Math.floor(r() * list.length)];
		const sig = group[0].signature;
		const weight = 1 / (b + 1) ** params.zipf;
		total += weight;
		buckets.push({
			signature: {
				...sig,
				id:
					b < list.length && !buckets.some((x) => x.signature.id === sig.id)
						? sig.id
						: hex(`${sig.id}/${b}`),
				title: `${sig.title}${b === 0 ? "" : ` #${b}`}`,
			},
			group: {
				amd64: group.filter((t) => t.goarch === "amd64"),
				arm64: group.filter((t) => t.goarch === "arm64"),
			},
			// Most of a bucket's crashes come from one service; some buckets only from one architecture.
			home: SERVICES[Math.floor(r() * params.services) % SERVICES.length],
			onlyArch: r() < 0.15 ? pickFrom(r, ["amd64", "arm64"]) : null,
			recovered: sig.reason.startsWith("panic") ? 0.3 : 0,
			cumulative: total,
		});
	}
	for (const b of buckets) b.cumulative /= total;
	return buckets;
}

function pickBucket(r, buckets) {
	const x = r();
	let lo = 0;
	let hi = buckets.length - 1;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (buckets[mid].cumulative < x) lo = mid + 1;
		else hi = mid;
	}
	return buckets[lo];
}

/** A time in the day, more crashes in the (UTC) afternoon than at night. */
function timeOfDay(r) {
	for (;;) {
		const t = r() * DAY;
		const load = 0.55 + 0.45 * Math.sin((2 * Math.PI * (t / HOUR - 8)) / 24);
		if (r() < load) return Math.floor(t);
	}
}

/**
 * The windows whose answers the generator tallies, so that the benchmark can check them. They end
 * five hours before the data does, as a window ending now would: part of a day at either end.
 */
function checkedWindows() {
	const end = params.end;
	const to = end - 5 * HOUR;
	return {
		full: { from: end - params.days * DAY, to: end },
		week: { from: to - 7 * DAY, to },
		month: { from: to - 30 * DAY, to },
		monthService: { from: to - 30 * DAY, to, service: "auth" },
		monthArm64: { from: to - 30 * DAY, to, goarch: "arm64" },
	};
}

// ---------------------------------------------------------------------------------------------
// Filling

async function fill(store) {
	const started = performance.now();
	const r = random(params.seed);
	const tpls = await templates();
	const hosts = makeHosts(r);
	const buckets = makeBuckets(r, tpls);
	const byServiceArch = new Map();
	for (const h of hosts) {
		const k = `${h.service}/${h.goarch}`;
		byServiceArch.set(k, [...(byServiceArch.get(k) ?? []), h]);
	}
	const byArch = {
		amd64: hosts.filter((h) => h.goarch === "amd64"),
		arm64: hosts.filter((h) => h.goarch === "arm64"),
	};
	const start = params.end - params.days * DAY;
	const windows = checkedWindows();
	const expected = Object.fromEntries(Object.keys(windows).map((w) => [w, {}]));
	const tally = (c) => {
		if (c.kind !== "fatal") return;
		for (const [w, f] of Object.entries(windows)) {
			if (c.time < f.from || c.time >= f.to) continue;
			if (f.service !== undefined && c.service !== f.service) continue;
			if (
				f.goarch !== undefined &&
				!c.attributes.some(([n, v]) => n === "goarch" && v === f.goarch)
			)
				continue;
			expected[w][c.signature.id] = (expected[w][c.signature.id] ?? 0) + 1;
		}
	};
	const prepared = performance.now();
	let n = 0;
	const kinds = { fatal: 0, recovered: 0 };
	let batch = [];
	for (let day = 0; day < params.days; day++) {
		const count =
			Math.floor(((day + 1) * params.crashes) / params.days) -
			Math.floor((day * params.crashes) / params.days);
		const times = Array.from({ length: count }, () => start + day * DAY + timeOfDay(r)).sort(
			(a, b) => a - b,
		);
		for (const time of times) {
			const b = pickBucket(r, buckets);
			let goarch = b.onlyArch ?? (r() < 0.5 ? "amd64" : "arm64");
			if (b.group[goarch].length === 0) goarch = goarch === "amd64" ? "arm64" : "amd64";
			const tpl = pickFrom(r, b.group[goarch]);
			const pool =
				r() < 0.6 ? (byServiceArch.get(`${b.home}/${goarch}`) ?? byArch[goarch]) : byArch[goarch];
			const host = pickFrom(r, pool);
			const kind = r() < b.recovered ? "recovered" : "fatal";
			const c = {
				...tpl,
				id: `${time.toString(16).padStart(12, "0")}${n.toString(16).padStart(20, "0")}`,
				kind,
				time,
				received: time + 2000,
				host: host.name,
				service: host.service,
				version: versionAt(host, time, start),
				attributes: [...senderAttributes(host), ...tpl.attributes],
				signature: b.signature,
			};
			delete c.goarch;
			delete c.file;
			tally(c);
			kinds[kind]++;
			batch.push(c);
			n++;
			if (batch.length === 10_000) {
				await store.insertCrashes(batch);
				batch = [];
			}
		}
		if (day % 10 === 9)
			console.error(
				`  filled ${n} crashes (day ${day + 1}), ${((performance.now() - prepared) / 1000).toFixed(0)} s`,
			);
	}
	if (batch.length > 0) await store.insertCrashes(batch);
	const crashesDone = performance.now();
	// Heartbeats: one per host-hour, for the first heartbeatHosts hosts over the last heartbeatDays days.
	const beating = hosts.slice(0, params.heartbeatHosts);
	const hbStart = params.end - params.heartbeatDays * DAY;
	let hostHours = 0;
	for (let hour = hbStart; hour < params.end; hour += 6 * HOUR) {
		const batch = [];
		for (let h = hour; h < hour + 6 * HOUR; h += HOUR)
			for (const host of beating)
				batch.push({
					host: host.name,
					time: h + 60_000 * (host.lag % 60),
					service: host.service,
					version: versionAt(host, h, start),
					attributes: heartbeatAttributes(host),
				});
		await store.insertHeartbeats(batch);
		hostHours += batch.length;
		if ((hour - hbStart) % (10 * DAY) === 0 && hour > hbStart)
			console.error(
				`  filled ${hostHours} host-hours, ${((performance.now() - crashesDone) / 1000).toFixed(0)} s`,
			);
	}
	const done = performance.now();
	return {
		params,
		templates: tpls.length,
		signatureGroups: new Set(tpls.map((t) => t.signature.id)).size,
		crashes: n,
		kinds,
		hostHours,
		expected,
		seconds: {
			prepare: (prepared - started) / 1000,
			crashes: (crashesDone - prepared) / 1000,
			heartbeats: (done - crashesDone) / 1000,
		},
	};
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a server of the benchmark's own on a data directory kept in the cache.

function pgRunner() {
	const base = "/usr/lib/postgresql";
	const version = readdirSync(base)
		.filter((v) => existsSync(join(base, v, "bin/initdb")))
		.sort((a, b) => Number(b) - Number(a))[0];
	const bin = join(base, version, "bin");
	const asRoot = process.getuid?.() === 0;
	const user = asRoot ? "postgres" : process.env.USER;
	const run = (program, args) => {
		const [file, argv] = asRoot
			? ["runuser", ["-u", "postgres", "--", join(bin, program), ...args]]
			: [join(bin, program), args];
		const ran = spawnSync(file, argv, { encoding: "utf8", cwd: "/" });
		if (ran.status !== 0) throw new Error(`${program} failed: ${ran.stderr || ran.stdout}`);
	};
	const own = (dir) => {
		if (!asRoot) return;
		const id = (flag) =>
			Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
		chownSync(dir, id("-u"), id("-g"));
	};
	return { version, user, run, own };
}

async function freePort() {
	return new Promise((done, fail) => {
		const s = createServer();
		s.once("error", fail);
		s.listen(0, "127.0.0.1", () => {
			const { port } = s.address();
			s.close(() => done(port));
		});
	});
}

async function startPostgres(pg, dir, settings) {
	const port = await freePort();
	const options = [
		`port=${port}`,
		"listen_addresses=127.0.0.1",
		`unix_socket_directories=${dir}`,
		"max_connections=100",
		...settings,
	];
	pg.run("pg_ctl", [
		"-D",
		join(dir, "data"),
		"-l",
		join(dir, "log"),
		"-w",
		"-t",
		"120",
		"-o",
		options.map((o) => `-c ${o}`).join(" "),
		"start",
	]);
	return {
		url: `postgres://${pg.user}@127.0.0.1:${port}/gocrash`,
		stop: () =>
			pg.run("pg_ctl", ["-D", join(dir, "data"), "-m", "fast", "-w", "-t", "300", "stop"]),
	};
}

// ---------------------------------------------------------------------------------------------
// The stores, filled once and kept

async function sqliteStore() {
	const path = join(cacheDir, `query-${key}.sqlite`);
	const manifestPath = `${path}.json`;
	if (existsSync(path) && existsSync(manifestPath))
		return { db: path, manifest: JSON.parse(readFileSync(manifestPath, "utf8")), cached: true };
	const tmp = `${path}.filling`;
	for (const suffix of ["", "-wal", "-shm"]) rmSync(tmp + suffix, { force: true });
	const { openStore } = await import(join(root, "dist/store/index.js"));
	console.error(`filling SQLite ${tmp}: ${label}`);
	const store = await openStore(tmp);
	const manifest = await fill(store);
	await store.close();
	renameSync(tmp, path);
	writeFileSync(manifestPath, JSON.stringify(manifest));
	return { db: path, manifest, cached: false };
}

async function postgresStore() {
	const pg = pgRunner();
	const dir = join(cacheDir, `query-${key}-pg${pg.version}`);
	const manifestPath = `${dir}.json`;
	let manifest;
	let cached = true;
	if (!existsSync(manifestPath) || !existsSync(join(dir, "data"))) {
		cached = false;
		const tmp = `${dir}.filling`;
		rmSync(tmp, { recursive: true, force: true });
		mkdirSync(tmp, { recursive: true });
		pg.own(tmp);
		pg.run("initdb", [
			"-D",
			join(tmp, "data"),
			"-U",
			pg.user,
			"-A",
			"trust",
			"-E",
			"UTF8",
			"--locale=C",
			"--no-sync",
			"--no-instructions",
		]);
		// Filling only: no fsync. The reads below run on a server with durable settings.
		const server = await startPostgres(pg, tmp, [
			"fsync=off",
			"synchronous_commit=off",
			"full_page_writes=off",
			"max_wal_size=4GB",
		]);
		try {
			const { default: pgClient } = await import("pg");
			const admin = new pgClient.Client({
				connectionString: server.url.replace(/\/gocrash$/, "/postgres"),
			});
			await admin.connect();
			await admin.query("create database gocrash");
			await admin.end();
			const { openStore } = await import(join(root, "dist/store/index.js"));
			console.error(`filling PostgreSQL ${tmp}: ${label}`);
			const store = await openStore(server.url);
			manifest = await fill(store);
			await store.close();
			// As autovacuum would after the inserts: statistics and visibility for the planner.
			const c = new pgClient.Client({ connectionString: server.url });
			await c.connect();
			const t = performance.now();
			await c.query("vacuum analyze");
			manifest.seconds.vacuum = (performance.now() - t) / 1000;
			await c.end();
		} finally {
			server.stop();
		}
		rmSync(dir, { recursive: true, force: true });
		renameSync(tmp, dir);
		writeFileSync(manifestPath, JSON.stringify(manifest));
	} else manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
	const server = await startPostgres(pg, dir, []);
	if (cached) {
		// A cached store takes the migrations written since it was filled, then autovacuum's pass.
		const t = performance.now();
		const { openStore } = await import(join(root, "dist/store/index.js"));
		await (await openStore(server.url)).close();
		const { default: pgClient } = await import("pg");
		const c = new pgClient.Client({ connectionString: server.url });
		await c.connect();
		await c.query("vacuum analyze");
		await c.end();
		console.error(
			`PostgreSQL: migrated and vacuumed in ${((performance.now() - t) / 1000).toFixed(1)} s`,
		);
	}
	return { db: server.url, manifest, cached, stop: server.stop };
}

// ---------------------------------------------------------------------------------------------
// The server and the timed reads

const iso = (t) => new Date(t).toISOString();
const median = (xs) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function timedGet(base, read, path) {
	const t = performance.now();
	const res = await fetch(base + path, { headers: { authorization: `Bearer ${read}` } });
	const body = await res.text();
	const ms = performance.now() - t;
	if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 300)}`);
	return { ms, body: JSON.parse(body) };
}

function fail(message) {
	throw new Error(`check failed: ${message}`);
}

/** The top of a window's expected bucket list, as the generator counted it. */
function expectedTop(counts, limit) {
	return Object.entries(counts)
		.sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
		.slice(0, limit);
}

function checkList(name, got, counts, limit = 50) {
	const want = expectedTop(counts, limit);
	if (got.buckets.length !== want.length)
		fail(`${name}: ${got.buckets.length} buckets, expected ${want.length}`);
	for (const [i, [id, count]] of want.entries()) {
		const b = got.buckets[i];
		if (b.count !== count)
			fail(`${name}: rank ${i + 1} has ${b.count} crashes (${b.id}), expected ${count} (${id})`);
		if (b.hosts < 1 || b.hosts > Math.min(count, params.hosts))
			fail(`${name}: ${b.id} has ${b.hosts} hosts`);
	}
}

async function measure(name, backend) {
	const { db, manifest, cached, stop } =
		backend === "sqlite" ? await sqliteStore() : await postgresStore();
	const f = manifest.seconds;
	console.log(
		`\n${name}: ${manifest.crashes} crashes (${manifest.kinds.fatal} fatal, ${manifest.kinds.recovered} recovered) from ${manifest.templates} fixture texts in ${manifest.signatureGroups} signature groups, ${manifest.hostHours} host-hours of heartbeats; ${cached ? "cached, filled" : "filled"} in ${(f.prepare + f.crashes + f.heartbeats).toFixed(0)} s (prepare ${f.prepare.toFixed(1)} s, crashes ${f.crashes.toFixed(0)} s, heartbeats ${f.heartbeats.toFixed(0)} s${f.vacuum === undefined ? "" : `, vacuum analyze ${f.vacuum.toFixed(0)} s`})`,
	);
	const read = token(db, "read");
	const server = await serve(db);
	try {
		const w = checkedWindows();
		const ex = manifest.expected;
		const win = (x) => `from=${iso(x.from)}&to=${iso(x.to)}`;
		const top = expectedTop(ex.full, 1)[0][0];
		const small =
			expectedTop(ex.month, 1000).filter(([, n]) => n >= 20 && n <= 60)[0]?.[0] ??
			expectedTop(ex.month, 1000).at(-1)[0];
		const rows = [
			[
				"GET /buckets (default 7 days)",
				`/api/v1/buckets?to=${iso(w.week.to)}`,
				(b) => checkList("week", b, ex.week),
			],
			[
				"GET /buckets 30 days",
				`/api/v1/buckets?${win(w.month)}`,
				(b) => checkList("month", b, ex.month),
			],
			[
				"GET /buckets 30 days service=auth",
				`/api/v1/buckets?${win(w.month)}&service=auth`,
				(b) => checkList("month service", b, ex.monthService),
			],
			[
				"GET /buckets 30 days goarch=arm64",
				`/api/v1/buckets?${win(w.month)}&goarch=arm64`,
				(b) => checkList("month arm64", b, ex.monthArm64),
			],
			[
				"GET /buckets 90 days, limit 1000",
				`/api/v1/buckets?${win(w.full)}&limit=1000`,
				(b) => checkList("full", b, ex.full, 1000),
			],
			[
				"GET /buckets/{big}",
				`/api/v1/buckets/${top}`,
				(b) => {
					if (b.count !== ex.full[top]) fail(`bucket ${top}: ${b.count}, expected ${ex.full[top]}`);
					if (b.versions.reduce((n, v) => n + v.count, 0) !== b.count)
						fail(`bucket ${top}: versions do not add up`);
				},
			],
			...[
				["big", top],
				["small", small],
			].flatMap(([size, id]) =>
				["crashes", "fleet"].map((reference) => [
					`GET correlations ${size} bucket, reference=${reference}, 7 days`,
					`/api/v1/buckets/${id}/correlations?reference=${reference}&to=${iso(w.week.to)}`,
					(b) => {
						if (b.bucketTotal !== (ex.week[id] ?? 0))
							fail(`correlations ${id}: bucketTotal ${b.bucketTotal}, expected ${ex.week[id]}`);
						if (b.referenceTotal <= 0) fail(`correlations ${id}: empty reference`);
					},
				]),
			),
			...[
				["big", top],
				["small", small],
			].map(([size, id]) => [
				`GET correlations ${size} bucket, reference=crashes, 30 days`,
				`/api/v1/buckets/${id}/correlations?${win(w.month)}`,
				(b) => {
					if (b.bucketTotal !== (ex.month[id] ?? 0))
						fail(`correlations ${id}: bucketTotal ${b.bucketTotal}, expected ${ex.month[id]}`);
				},
			]),
			[
				"GET /rates big bucket, hourly, 7 days",
				`/api/v1/rates?bucket=${top}&to=${iso(w.week.to)}`,
				(b) => {
					const sum = b.series.reduce((n, p) => n + p.count, 0);
					if (sum !== ex.week[top]) fail(`rates ${top}: ${sum}, expected ${ex.week[top]}`);
				},
			],
			[
				"GET /rates overall, daily, 90 days",
				`/api/v1/rates?interval=day&${win(w.full)}`,
				(b) => {
					const sum = b.series.reduce((n, p) => n + p.count, 0);
					if (sum !== manifest.kinds.fatal)
						fail(`rates: ${sum} fatal, expected ${manifest.kinds.fatal}`);
					if (b.series.at(-1).hostHours !== 24 * Math.min(params.heartbeatHosts, params.hosts))
						fail(`rates: ${b.series.at(-1).hostHours} host-hours on the last day`);
				},
			],
			[
				"GET /crashes?bucket={big}",
				`/api/v1/crashes?bucket=${top}`,
				(b) => {
					if (b.crashes.length !== 50 || b.crashes.some((c) => c.bucket !== top))
						fail("crashes of the bucket");
				},
			],
		];
		// Every answer checked once, outside the timing.
		for (const [, path, check] of rows) check((await timedGet(server.url, read, path)).body);
		const recovered = await timedGet(
			server.url,
			read,
			`/api/v1/rates?interval=day&kind=recovered&${win(w.full)}`,
		);
		if (
			recovered.body.series.reduce((n, p) => n + p.count, 0) + manifest.kinds.fatal !==
			manifest.crashes
		)
			fail("fatal and recovered crashes do not add up to every crash");
		console.log(
			`checked: every answer as the generator counted it; fatal and recovered rates over 90 days add up to ${manifest.crashes}`,
		);
		const peer = [];
		const results = [];
		for (const [title, path] of rows) {
			const times = [];
			for (let i = 0; i < runs; i++) {
				times.push((await timedGet(server.url, read, path)).ms);
				peer.push((await timedGet(server.url, read, "/healthz")).ms);
			}
			results.push([title, times]);
		}
		const p = median(peer);
		console.log(
			`${"".padEnd(58)} ${"median".padStart(9)} ${"max".padStart(9)} ${"x peer".padStart(8)}`,
		);
		for (const [title, times] of results)
			console.log(
				`${title.padEnd(58)} ${median(times).toFixed(1).padStart(6)} ms ${Math.max(...times)
					.toFixed(1)
					.padStart(6)} ms ${(median(times) / p).toFixed(0).padStart(8)}`,
			);
		console.log(
			`${"peer: GET /healthz (same server, between the reads)".padEnd(58)} ${p.toFixed(2).padStart(6)} ms ${Math.max(
				...peer,
			)
				.toFixed(1)
				.padStart(6)} ms`,
		);
	} finally {
		await stopServer(server);
		stop?.();
	}
}

mkdirSync(cacheDir, { recursive: true });
console.log(
	`bench/query: ${label}; ${params.heartbeatHosts} hosts with heartbeats over ${params.heartbeatDays} days; ${runs} runs of each read (key ${key})`,
);
if (backends.includes("sqlite")) await measure("SQLite", "sqlite");
if (backends.includes("postgres")) await measure("PostgreSQL", "postgres");
