import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { builtinRulesDir, loadRules } from "../src/cli/diagnose.js";
import type { Rule } from "../src/knowledge/index.js";
import { newToken, prepareReport } from "../src/server/index.js";
import type { NewCrash } from "../src/store/index.js";
import { openSqliteStore } from "../src/store/sqlite/index.js";
import { serve } from "./_serve.js";

// End to end: the built command line deletes old crashes and keeps their counts.
const DAY = 24 * 3_600_000;
const TEXTS = ["nil-pointer.crash.txt", "concurrent-map-writes.txt", "deadlock.txt"].map((n) =>
	readFileSync(join(import.meta.dirname, "fixtures/crashes/go1.24.4-amd64", n), "utf8"),
);

const scratch = mkdtempSync(join(tmpdir(), "gocrash-retention-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let rules: readonly Rule[];
beforeAll(async () => {
	rules = (await loadRules([builtinRulesDir])).rules;
});

/** Crashes of the fixture texts as the server would store them, received at `received`. */
function crashesAt(received: number, copies: number, host: string): NewCrash[] {
	return Array.from({ length: copies }, (_, i) =>
		prepareReport(
			{
				text: TEXTS[i % TEXTS.length] as string,
				kind: "fatal",
				time: received - 60_000,
				host,
				service: "retention",
				version: "1.0",
				attributes: [["region", "eu"]],
				idempotencyKey: null,
			},
			{ rules, maxCrashes: 10, now: () => received },
		),
	).flat();
}

it("gocrash serve --retention-days deletes old crashes, keeping their buckets, counts and rates", async () => {
	const db = join(scratch, "serve.db");
	const now = Date.now();
	const store = await openSqliteStore(db);
	const old = crashesAt(now - 3 * DAY, 6, "old-host");
	const recent = crashesAt(now - DAY / 2, 3, "new-host");
	const read = newToken("read", "retention", now);
	try {
		await store.insertCrashes([...old, ...recent]);
		await store.createToken(read.record);
	} finally {
		await store.close();
	}
	const server = await serve(db, "--retention-days", "2");
	const url = server.url;
	try {
		const get = async (
			path: string,
		): Promise<{ status: number; body: Record<string, unknown> }> => {
			const r = await fetch(`${url}${path}`, {
				headers: { authorization: `Bearer ${read.secret}` },
			});
			return { status: r.status, body: (await r.json()) as Record<string, unknown> };
		};
		// The first pass runs as the server starts; wait for it.
		let status = 200;
		for (let i = 0; i < 100 && status !== 404; i++) {
			status = (await get(`/api/v1/crashes/${old[0]?.id}`)).status;
			if (status !== 404) await new Promise((done) => setTimeout(done, 50));
		}
		for (const c of old) expect((await get(`/api/v1/crashes/${c.id}`)).status).toBe(404);
		for (const c of recent)
			expect((await get(`/api/v1/crashes/${c.id}`)).body.text).toContain("goroutine");
		const listed = (await get("/api/v1/crashes?limit=100")).body.crashes as { id: string }[];
		expect(listed.map((c) => c.id).sort()).toEqual(recent.map((c) => c.id).sort());
		const from = new Date(now - 5 * DAY).toISOString();
		const buckets = (await get(`/api/v1/buckets?from=${from}&service=retention`)).body.buckets as {
			id: string;
			count: number;
			hosts: number;
		}[];
		const expected = new Map<string, number>();
		for (const c of [...old, ...recent])
			expected.set(c.signature.id, (expected.get(c.signature.id) ?? 0) + 1);
		expect(new Map(buckets.map((b) => [b.id, b.count]))).toEqual(expected);
		const rates = (await get(`/api/v1/rates?interval=day&from=${from}&service=retention`)).body
			.series as { count: number }[];
		expect(rates.reduce((n, p) => n + p.count, 0)).toBe(old.length + recent.length);
	} finally {
		server.process.kill("SIGTERM");
		expect(await server.exited).toBe(0);
	}
});

it("reuses the space of expired crashes: a store kept to its retention grows far slower", async () => {
	/** The file's size after each of six days of the same traffic, closed (so checkpointed) daily. */
	async function sizes(name: string, retain: boolean): Promise<number[]> {
		const db = join(scratch, name);
		const out: number[] = [];
		for (let day = 0; day < 6; day++) {
			const store = await openSqliteStore(db);
			try {
				const received = Date.UTC(2026, 10, 1) + day * DAY;
				await store.insertCrashes(crashesAt(received, 150, `host-${day}`));
				// Each day's texts go when the next day's arrive.
				if (retain) await store.expire(received);
			} finally {
				await store.close();
			}
			out.push(statSync(db).size);
		}
		return out;
	}
	const dropping = await sizes("dropping.db", true);
	const keeping = await sizes("keeping.db", false);
	const growth = (s: number[]) => (s[5] as number) - (s[1] as number);
	// The rollups still grow, by the hour; the crashes, most of the bytes, do not pile up.
	expect(growth(dropping)).toBeLessThan(growth(keeping) / 4);
});
