import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { CLI } from "../../test/_serve.js";
import { gocrash } from "../../test/binaries/_cli.js";
import { prepareReport } from "../server/index.js";
import type { NewCrash, ReportFilter, Store } from "../store/index.js";
import { openSqliteStore } from "../store/sqlite/index.js";
import { builtinRulesDir, loadRules } from "./diagnose.js";

const execFileAsync = promisify(execFile);
const FIXTURES = join(import.meta.dirname, "../../test/fixtures/crashes");
const T0 = Date.UTC(2026, 10, 2);
const HOUR = 3_600_000;
const dir = mkdtempSync(join(tmpdir(), "gocrash-rebucket-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Real fixture crashes as the service would store them today. */
let current: NewCrash[] = [];

beforeAll(async () => {
	const { rules } = await loadRules([builtinRulesDir]);
	for (const version of ["go1.25.12-arm64", "go1.22.12-amd64"])
		for (const name of readdirSync(join(FIXTURES, version)).filter((n) => n.endsWith(".txt")))
			try {
				const text = readFileSync(join(FIXTURES, version, name), "utf8");
				const i = current.length;
				current.push(
					...prepareReport(
						{
							text,
							kind: i % 5 === 0 ? "recovered" : "fatal",
							time: T0 + (i % 48) * HOUR,
							host: `host-${i % 7}`,
							service: i % 2 === 0 ? "api" : "worker",
							version: "1.0",
							attributes: [["region", i % 3 === 0 ? "eu" : "us"]],
							idempotencyKey: null,
						},
						{ rules, maxCrashes: 100, now: () => T0 },
					),
				);
			} catch {
				// A fixture with no crash in it (a dump of goroutines only is still one).
			}
	current = current.map((c, i) => ({ ...c, id: `c${String(i).padStart(5, "0")}` }));
});

/** The crashes as an older gocrash signed them: other buckets, no diagnosis, fewer attributes. */
const stale = (c: NewCrash, i: number): NewCrash =>
	i % 3 === 0
		? {
				...c,
				signature: { ...c.signature, id: `old-${i % 4}`, version: 0, title: `old bucket ${i % 4}` },
				diagnosis: null,
				diagnosisRank: 0,
				findings: "[]",
			}
		: i % 3 === 1
			? { ...c, attributes: c.attributes.filter(([n]) => n !== "goarch") }
			: c;

async function reads(store: Store) {
	const out: unknown[] = [];
	for (const kind of ["fatal", "recovered"] as const) {
		const f: ReportFilter = { kind, from: T0, to: T0 + 48 * HOUR, attributes: [] };
		const buckets = await store.listBuckets(f, 1000);
		out.push(buckets);
		out.push(await store.reportAttributes(undefined, f));
		for (const b of buckets.slice(0, 5)) {
			out.push(await store.reportAttributes(b.id, f));
			out.push(await store.rates(b.id, f, HOUR));
			out.push(await store.getBucket(b.id, kind));
		}
		out.push(await store.listBuckets({ ...f, attributes: [["goarch", "arm64"]] }, 1000));
	}
	return out;
}

test("rebucket signs stored crashes again: the store reads as if they had been stored today", async () => {
	expect(current.length).toBeGreaterThan(40);
	const fresh = await openSqliteStore(join(dir, "fresh.db"));
	await fresh.insertCrashes(current);
	const expected = await reads(fresh);
	await fresh.close();

	const db = join(dir, "old.db");
	const old = await openSqliteStore(db);
	await old.insertCrashes(current.map(stale));
	const before = await reads(old);
	await old.close();
	expect(before).not.toEqual(expected);
	const moved = current.filter((_, i) => i % 3 === 0).length;
	const changed = current.filter(
		(_, i) => i % 3 === 1 && current[i]?.attributes.some(([n]) => n === "goarch"),
	).length;

	const dry = await gocrash("rebucket", "--db", db, "--dry-run", "--threads", "0", "--json");
	expect(dry.stderr).toBe("");
	expect(dry.code).toBe(0);
	const planned = JSON.parse(dry.stdout);
	expect(planned).toMatchObject({
		read: current.length,
		moved,
		changed,
		unsigned: 0,
		dryRun: true,
	});
	expect(planned.moves.reduce((n: number, m: { count: number }) => n + m.count, 0)).toBe(moved);
	const unchanged = await openSqliteStore(db);
	expect(await reads(unchanged)).toEqual(before);
	await unchanged.close();

	// The built command, on a worker thread as it runs by default.
	const done = await execFileAsync(process.execPath, [
		CLI,
		"rebucket",
		"--db",
		db,
		"--threads",
		"1",
	]);
	expect(done.stdout).toMatch(
		new RegExp(
			`^gocrash rebucket: ${current.length} crashes read: ${moved} moved to another bucket, ${changed} got a new diagnosis or attributes, `,
		),
	);
	expect(done.stdout).toMatch(/\nCRASHES +FROM +TO +NEW TITLE\n/);
	const after = await openSqliteStore(db);
	expect(await reads(after)).toEqual(expected);
	for (const i of [0, 1, 3])
		expect(await after.getCrash(`c0000${i}`)).toMatchObject({
			bucket: current[i]?.signature.id,
			diagnosis: current[i]?.diagnosis,
		});
	expect(await after.getBucket("old-0", "fatal")).toBeNull();
	await after.close();

	const again = await gocrash("rebucket", "--db", db, "--threads", "0", "--json");
	expect(JSON.parse(again.stdout)).toMatchObject({
		moved: 0,
		changed: 0,
		unchanged: current.length,
	});
});

test("rebucket names the crashes it cannot sign again and keeps them as they are", async () => {
	const db = join(dir, "bad.db");
	const store = await openSqliteStore(db);
	const [a, b] = current as [NewCrash, NewCrash];
	await store.insertCrashes([
		{ ...a, id: "garbage", raw: new Uint8Array([1, 2, 3]) },
		{ ...b, id: "no-crash", raw: new Uint8Array((await import("node:zlib")).gzipSync("hello\n")) },
	]);
	await store.close();
	const r = await gocrash("rebucket", "--db", db, "--threads", "0");
	expect(r.code).toBe(0);
	expect(r.stdout).toContain("2 could not be signed again");
	expect(r.stdout).toMatch(/not signed again: garbage: its stored text does not decompress: /);
	expect(r.stdout).toMatch(
		/not signed again: no-crash: no Go crash, goroutine dump or race report found/,
	);
	const bad = await gocrash("rebucket", "--db", db, "--threads", "x");
	expect(bad.code).toBe(2);
	expect(bad.stderr).toContain("--threads: 'x' is not a whole number");
});
