import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, newToken } from "../../server/index.js";
import type { Store } from "../../store/index.js";
import { openSqliteStore } from "../../store/sqlite/index.js";
import { builtinRulesDir, loadRules } from "../diagnose.js";
import { loadDemoFleet } from "./_demo.js";

// The proof of the fleet service: a simulated fleet of real crash texts goes in through the
// same parsing, signing and diagnosis as any report, and the service finds the split-SP bug's
// victim and architecture without knowing either.
const END = Date.UTC(2026, 11, 1);
const dir = mkdtempSync(join(tmpdir(), "gocrash-demo-"));
let store: Store;
let app: FastifyInstance;
let read = "";
let loaded: Awaited<ReturnType<typeof loadDemoFleet>>;

beforeAll(async () => {
	store = await openSqliteStore(join(dir, "demo.db"));
	const { rules } = await loadRules([builtinRulesDir]);
	loaded = await loadDemoFleet(store, rules, END);
	const token = newToken("read", "demo-test", END);
	await store.createToken(token.record);
	read = token.secret;
	app = createServer({ store, rules, now: () => END });
}, 300_000);
afterAll(async () => {
	await app?.close();
	await store?.close();
	rmSync(dir, { recursive: true, force: true });
});

const get = async (url: string) => {
	const res = await app.inject({ url, headers: { authorization: `Bearer ${read}` } });
	expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
	return res.json();
};
const window = "from=2026-11-10T00:00:00Z&to=2026-12-01T00:00:00Z";

describe("the demo fleet", () => {
	it("is hundreds of hosts over weeks", () => {
		expect(loaded.hosts).toBeGreaterThanOrEqual(300);
		expect(loaded.days).toBeGreaterThanOrEqual(21);
		expect(loaded.crashes).toBeGreaterThan(3000);
	});

	it("finds the split-SP bucket, its victim and arm64 as what stands out, and the compiler bug", async () => {
		const { buckets } = await get(`/api/v1/buckets?${window}`);
		const split = buckets.find(
			(b: { diagnosis: { id: string } | null }) => b.diagnosis?.id === "go-arm64-split-sp-epilogue",
		);
		expect(split, JSON.stringify(buckets.slice(0, 5))).toBeDefined();
		const { correlations } = await get(`/api/v1/buckets/${split.id}/correlations?${window}`);
		const named = correlations.map(
			(c: { attribute: string; value: string }) => `${c.attribute}=${c.value}`,
		);
		// Against the other crashes: the victim first; then main.work, the reproducer's own loop
		// that its other goroutines are preempted in (inlined into main.main); then arm64.
		expect(named[0]).toBe("preempted=main.big_stack");
		expect(named.slice(0, 3)).toContain("goarch=arm64");
		expect(named.slice(0, 3).every((n: string) => /^(preempted|goarch)=/.test(n))).toBe(true);
		const fleet = await get(`/api/v1/buckets/${split.id}/correlations?reference=fleet&${window}`);
		expect(fleet.correlations[0]).toMatchObject({ attribute: "goarch", value: "arm64" });
		const bucket = await get(`/api/v1/buckets/${split.id}`);
		expect(bucket.diagnosis.finding.title).toMatch(/arm64 compiler split a stack-frame pop/);
		expect(bucket.signature.frames).toEqual(["main.big_stack"]);
	});

	it("shows the recovered-panic rate tracking the split-SP rate before the fix", async () => {
		const { buckets } = await get(`/api/v1/buckets?${window}`);
		const split = buckets.find(
			(b: { diagnosis: { id: string } | null }) => b.diagnosis?.id === "go-arm64-split-sp-epilogue",
		);
		const early = await get(
			`/api/v1/buckets/${split.id}/correlations?from=2026-11-10T00:00:00Z&to=2026-11-18T00:00:00Z`,
		);
		const byDay = early.time.find((t: { interval: string }) => t.interval === "day");
		expect(byDay.against).toBe("recovered");
		expect(byDay.r).toBeGreaterThan(0.5);
		const late = await get(
			`/api/v1/buckets/${split.id}/correlations?from=2026-11-18T00:00:00Z&to=2026-12-01T00:00:00Z`,
		);
		const lateByDay = late.time.find((t: { interval: string }) => t.interval === "day");
		expect(lateByDay?.r ?? 0).toBeLessThan(byDay.r);
	});
});
