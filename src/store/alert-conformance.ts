import { expect, it } from "vitest";
import type { AlertRule, NewAlert } from "./_alert-types.js";
import type { NewCrash, Store } from "./_types.js";

const HOUR = 3_600_000;

const rule = (id: string, created: number, service: string | null = "api"): AlertRule => ({
	id,
	name: `rule ${id}`,
	service,
	event: "rate",
	threshold: 0.5,
	minCount: 2,
	url: `http://127.0.0.1:9/${id}`,
	format: "json",
	created,
});

const alert = (id: string, ruleId: string, key: string, created: number): NewAlert => ({
	id,
	rule: ruleId,
	key,
	event: "rate",
	service: "api",
	bucket: "b-nil",
	created,
	details: JSON.stringify({ id }),
});

/**
 * The alert part of the store suite, over the store the suite filled with `crashes`: `second`
 * opens another connection to the same database, as a second server would.
 */
export function alertConformance(
	store: () => Store,
	second: () => Promise<Store>,
	crashes: readonly NewCrash[],
	t0: number,
): void {
	it("keeps alert rules, and deleting one cancels its undelivered alerts", async () => {
		const s = store();
		await s.alerts.createRule(rule("r1", t0));
		await s.alerts.createRule({ ...rule("r2", t0 + 1, null), event: "new", threshold: null });
		expect((await s.alerts.listRules()).map((r) => r.id)).toEqual(["r1", "r2"]);
		expect((await s.alerts.listRules())[0]).toEqual(rule("r1", t0));
		await s.alerts.addAlerts([alert("x1", "r2", "r2/a", t0), alert("x2", "r2", "r2/b", t0)]);
		const [claimed] = await s.alerts.claimAlerts("me", t0, t0 + 1000, 1);
		await s.alerts.recordDelivery(claimed?.id as string, "me", { ok: true, status: 204, at: t0 });
		expect(await s.alerts.deleteRule("r2")).toBe(true);
		expect(await s.alerts.deleteRule("r2")).toBe(false);
		const states = (await s.alerts.listAlerts({ rule: "r2", limit: 10 })).map((a) => a.state);
		expect(states.sort()).toEqual(["cancelled", "sent"]);
		expect((await s.alerts.listRules()).map((r) => r.id)).toEqual(["r1"]);
	});

	it("stores an alert once per key, however many times it is raised", async () => {
		const s = store();
		const first = await s.alerts.addAlerts([
			alert("a1", "r1", "r1/k1", t0),
			alert("a2", "r1", "r1/k1", t0),
			alert("a3", "r1", "r1/k2", t0 + 5),
		]);
		expect(first.map((a) => a.id)).toEqual(["a1", "a3"]);
		expect(await s.alerts.addAlerts([alert("a4", "r1", "r1/k2", t0 + 9)])).toEqual([]);
		expect(await s.alerts.knownKeys(["r1/k2", "r1/none", "r1/k1"])).toEqual(
			new Set(["r1/k1", "r1/k2"]),
		);
		expect(await s.alerts.knownKeys([])).toEqual(new Set());
		const listed = await s.alerts.listAlerts({ rule: "r1", limit: 10 });
		expect(listed.map((a) => [a.id, a.state, a.attempts])).toEqual([
			["a3", "pending", 0],
			["a1", "pending", 0],
		]);
	});

	it("leases each due alert to one server at a time", async () => {
		const s = store();
		const other = await second();
		try {
			await s.alerts.addAlerts(
				Array.from({ length: 12 }, (_, i) => alert(`l${i}`, "r1", `r1/l${i}`, t0 + 100 + i)),
			);
			const now = t0 + 200;
			const [a, b] = await Promise.all([
				s.alerts.claimAlerts("one", now, now + 1000, 8),
				other.alerts.claimAlerts("two", now, now + 1000, 8),
			]);
			const ids = [...a, ...b].map((x) => x.id);
			// The twelve new ones and a1, a3 from before: fourteen due, none held twice.
			expect(new Set(ids).size).toBe(ids.length);
			expect(ids.length).toBe(14);
			expect(a[0]?.url).toBe("http://127.0.0.1:9/r1");
			expect(a[0]?.format).toBe("json");
			expect(await s.alerts.claimAlerts("three", now + 999, now + 2000, 20)).toEqual([]);
			// Nobody finished: after the lease ends, the alerts are due again.
			const again = await other.alerts.claimAlerts("three", now + 1001, now + 5000, 20);
			expect(again.length).toBe(14);
		} finally {
			await other.close();
		}
	});

	it("records deliveries: sent, retried later, or given up; only by the lease holder", async () => {
		const s = store();
		const now = t0 + 10_000;
		const held = await s.alerts.claimAlerts("four", now, now + 1000, 3);
		expect(held.length).toBe(3);
		const [ok, retry, fail] = held as unknown as [NewAlert, NewAlert, NewAlert];
		await s.alerts.recordDelivery(ok.id, "someone-else", { ok: true, status: 200, at: now });
		await s.alerts.recordDelivery(ok.id, "four", { ok: true, status: 200, at: now + 1 });
		await s.alerts.recordDelivery(retry.id, "four", {
			ok: false,
			status: 503,
			error: "the webhook answered 503",
			at: now + 2,
			retryAt: now + 500,
		});
		await s.alerts.recordDelivery(fail.id, "four", {
			ok: false,
			status: null,
			error: "ECONNREFUSED",
			at: now + 3,
			retryAt: null,
		});
		const byId = new Map(
			(await s.alerts.listAlerts({ rule: "r1", limit: 100 })).map((a) => [a.id, a]),
		);
		expect(byId.get(ok.id)).toMatchObject({ state: "sent", attempts: 1, sentAt: now + 1 });
		expect(byId.get(retry.id)).toMatchObject({
			state: "pending",
			attempts: 1,
			lastStatus: 503,
			lastError: "the webhook answered 503",
			nextAttempt: now + 500,
		});
		expect(byId.get(fail.id)).toMatchObject({
			state: "failed",
			lastStatus: null,
			lastError: "ECONNREFUSED",
		});
		const due = await s.alerts.claimAlerts("five", now + 400, now + 1400, 100);
		expect(due.map((a) => a.id)).not.toContain(retry.id);
		const later = await s.alerts.claimAlerts("five", now + 1500, now + 2500, 100);
		expect(later.map((a) => a.id)).toContain(retry.id);
		expect(later.map((a) => a.id)).not.toContain(ok.id);
		expect(later.map((a) => a.id)).not.toContain(fail.id);
	});

	it("lists alerts newest first, by rule and state, page by page", async () => {
		const s = store();
		const every = await s.alerts.listAlerts({ limit: 1000 });
		const sorted = [...every].sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
		expect(every.map((a) => a.id)).toEqual(sorted.map((a) => a.id));
		const paged: string[] = [];
		let cursor: { created: number; id: string } | undefined;
		for (;;) {
			const page = await s.alerts.listAlerts({ limit: 4, cursor });
			paged.push(...page.map((a) => a.id));
			const last = page.at(-1);
			if (page.length < 4 || last === undefined) break;
			cursor = { created: last.created, id: last.id };
		}
		expect(paged).toEqual(every.map((a) => a.id));
		const failed = await s.alerts.listAlerts({ state: "failed", limit: 100 });
		expect(failed.length).toBe(every.filter((a) => a.state === "failed").length);
		expect(failed.length).toBeGreaterThan(0);
	});

	it("finds buckets' first appearances, versions and hourly counts as the crashes say", async () => {
		const s = store();
		const fatal = crashes.filter((c) => c.kind === "fatal");
		for (const service of ["api", null]) {
			const mine = fatal.filter((c) => service === null || c.service === service);
			const first = new Map<string, number>();
			for (const c of mine)
				first.set(c.signature.id, Math.min(first.get(c.signature.id) ?? Infinity, c.time));
			// Between the buckets' first crashes: some buckets are recent, some are not.
			const since = [...first.values()].sort((a, b) => a - b)[2] as number;
			const expected = [...first]
				.filter(([, t]) => t >= since)
				.map(([bucket, firstSeen]) => ({ bucket, firstSeen }))
				.sort((a, b) => (a.bucket < b.bucket ? -1 : 1));
			expect(expected).toHaveLength(first.size - 2);
			expect(await s.alerts.appearances(service, since)).toEqual(expected);
			expect(await s.alerts.appearances(service, t0)).toHaveLength(first.size);

			const hours = new Map<string, number>();
			for (const c of mine) {
				const hour = c.time - (c.time % HOUR);
				if (hour < t0 + 5 * HOUR || hour >= t0 + 9 * HOUR) continue;
				const key = `${c.signature.id} ${hour}`;
				hours.set(key, (hours.get(key) ?? 0) + 1);
			}
			const counts = await s.alerts.bucketHourCounts(service, t0 + 5 * HOUR, t0 + 9 * HOUR);
			expect(new Map(counts.map((c) => [`${c.bucket} ${c.hour}`, c.count]))).toEqual(hours);

			const versionFirst = new Map<string, number>();
			for (const c of mine) {
				const key = `${c.signature.id} ${c.service} ${c.version}`;
				versionFirst.set(key, Math.min(versionFirst.get(key) ?? Infinity, c.time));
			}
			// The latest first crash of a version: one bucket is recent, the others are not.
			const recentSince = Math.max(...versionFirst.values());
			const recent = new Set(
				[...versionFirst].filter(([, t]) => t >= recentSince).map(([k]) => k.split(" ")[0]),
			);
			expect(recent.size).toBeGreaterThan(0);
			expect(recent.size).toBeLessThan(first.size);
			const versions = await s.alerts.recentBucketVersions(service, recentSince);
			expect(new Set(versions.keys())).toEqual(recent);
			for (const [bucket, list] of versions)
				expect(
					new Map(list.map((v) => [`${bucket} ${v.service} ${v.version}`, v.firstSeen])),
				).toEqual(new Map([...versionFirst].filter(([k]) => k.startsWith(`${bucket} `))));
		}
	});
}
