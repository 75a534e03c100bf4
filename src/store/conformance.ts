import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Heartbeat, NewCrash, ReportFilter, Store } from "./_types.js";
import { alertConformance } from "./alert-conformance.js";
import { streamConformance } from "./stream-conformance.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

/** A small deterministic generator, so that every backend sees the same rows. */
function lcg(seed: number): () => number {
	let s = seed >>> 0;
	return () => {
		s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
		return s / 2 ** 32;
	};
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

/** Makes `n` crashes over `days` days: four buckets, hosts in two regions, some multi-valued attributes. */
export function sampleCrashes(n: number, seed = 1, days = 3): NewCrash[] {
	const r = lcg(seed);
	const out: NewCrash[] = [];
	for (let i = 0; i < n; i++) {
		const bucket = pick(r, ["b-nil", "b-map", "b-split", "b-oom"]);
		const host = `host-${Math.floor(r() * 12)}`;
		const region = Number(host.slice(5)) % 2 === 0 ? "eu" : "us";
		const time = T0 + Math.floor(r() * days * 24 * HOUR);
		const attributes: [string, string][] = [
			["region", region],
			["goarch", bucket === "b-split" ? "arm64" : pick(r, ["arm64", "amd64"])],
		];
		if (bucket === "b-split")
			attributes.push(["preempted", "main.big_stack"], ["preempted", "main.other"]);
		const text = `panic: crash ${i}\n\ngoroutine 1 [running]:\nmain.main()\n\t/x/main.go:${i}\n`;
		const raw = gzipSync(text);
		out.push({
			id: `c${String(i).padStart(6, "0")}`,
			kind: r() < 0.2 ? "recovered" : "fatal",
			time,
			received: time + 1000,
			host,
			service: pick(r, ["api", "worker"]),
			version: pick(r, ["1.0", "1.1"]),
			attributes,
			signature: {
				id: bucket,
				version: 1,
				title: `title of ${bucket}`,
				reason: `reason of ${bucket}`,
				frames: [`main.${bucket.slice(2)}`],
				why: [`grouped as ${bucket}`],
			},
			message: `panic: crash ${i} 100%_done`,
			diagnosis: i % 3 === 0 ? { id: `rule-${bucket}`, confidence: "likely" } : null,
			diagnosisRank: i % 3 === 0 ? 2 : 0,
			findings: JSON.stringify([{ id: `rule-${bucket}`, i }]),
			raw: new Uint8Array(raw),
			rawSize: text.length,
			search: `panic: crash ${i} 100%_done main.main`,
			idempotencyKey: i % 2 === 0 ? `key-${i}` : null,
		});
	}
	return out;
}

/** Heartbeats of the twelve hosts for three days, every host twice an hour. */
export function sampleHeartbeats(): Heartbeat[] {
	const out: Heartbeat[] = [];
	for (let h = 0; h < 72; h++)
		for (let i = 0; i < 12; i++)
			for (const minute of [5, 35])
				out.push({
					host: `host-${i}`,
					time: T0 + h * HOUR + minute * 60_000,
					service: i < 6 ? "api" : "worker",
					version: "1.0",
					attributes: [
						["region", i % 2 === 0 ? "eu" : "us"],
						["goarch", i < 4 ? "arm64" : "amd64"],
					],
				});
	return out;
}

const pairs = (c: NewCrash): (readonly [string, string])[] => [
	["service", c.service],
	["version", c.version],
	["host", c.host],
	...c.attributes,
];

function matches(c: NewCrash, f: ReportFilter): boolean {
	if (c.kind !== f.kind || c.time < f.from || c.time >= f.to) return false;
	if (f.service !== undefined && c.service !== f.service) return false;
	return f.attributes.every(([n, v]) => pairs(c).some(([a, b]) => a === n && b === v));
}

/**
 * Runs the one test suite every store implementation must pass. `open()` opens the store the suite
 * shares; `open(other)` a separate, empty one of that name.
 */
export function storeConformance(name: string, open: (other?: string) => Promise<Store>): void {
	describe(`store conformance: ${name}`, () => {
		let store: Store;
		const crashes = sampleCrashes(600);
		const heartbeats = sampleHeartbeats();
		const all: ReportFilter = { kind: "fatal", from: T0, to: T0 + 72 * HOUR, attributes: [] };
		const filters: ReportFilter[] = [
			all,
			{ ...all, kind: "recovered" },
			{ ...all, from: T0 + 10 * HOUR, to: T0 + 30 * HOUR },
			{ ...all, service: "api" },
			{ ...all, attributes: [["region", "eu"]] },
			{ ...all, attributes: [["host", "host-3"]] },
			{ ...all, attributes: [["preempted", "main.big_stack"]] },
			{ ...all, service: "worker", attributes: [["goarch", "arm64"]] },
			{
				...all,
				attributes: [
					["goarch", "arm64"],
					["region", "us"],
				],
			},
			// Part of a day, a whole day and part of the next: hourly and daily rollups together.
			{ ...all, from: T0 + 5 * HOUR, to: T0 + 60 * HOUR },
			{ ...all, kind: "recovered", from: T0 + 23 * HOUR, to: T0 + 49 * HOUR },
			{ ...all, from: T0 + 5 * HOUR, to: T0 + 60 * HOUR, service: "worker" },
			{ ...all, from: T0 + 5 * HOUR, to: T0 + 60 * HOUR, attributes: [["region", "eu"]] },
			{ ...all, from: T0 + 19 * HOUR, to: T0 + 72 * HOUR, attributes: [["host", "host-3"]] },
			{ ...all, from: T0 + 24 * HOUR, to: T0 + 48 * HOUR, attributes: [["goarch", "amd64"]] },
		];

		beforeAll(async () => {
			store = await open();
			// Two batches at once and one retried: the retry must come back as duplicates.
			await Promise.all([
				store.insertCrashes(crashes.slice(0, 300)),
				store.insertCrashes(crashes.slice(300)),
			]);
			await store.insertHeartbeats(heartbeats.slice(0, 1000));
			await store.insertHeartbeats(heartbeats.slice(500));
		});
		afterAll(async () => {
			await store?.close();
		});

		it("answers a retried crash with the stored one, storing nothing twice", async () => {
			const retry = crashes.slice(0, 10).map((c) => ({ ...c, id: `${c.id}-retry` }));
			const stored = await store.insertCrashes(retry);
			for (const [i, s] of stored.entries()) {
				const c = crashes[i] as NewCrash;
				if (c.idempotencyKey === null)
					expect(s).toEqual({ id: `${c.id}-retry`, bucket: c.signature.id, duplicate: false });
				else expect(s).toEqual({ id: c.id, bucket: c.signature.id, duplicate: true });
			}
			expect(await store.getCrash("c000000-retry")).toBeNull();
			// The ones without a key were stored: take them out of the comparisons below by kind.
			const extra = retry.filter((c) => c.idempotencyKey === null);
			crashes.push(...extra);
		});

		it("keeps a crash whole: attributes, findings, raw bytes", async () => {
			const c = crashes[7] as NewCrash;
			const got = await store.getCrash(c.id);
			expect(got).not.toBeNull();
			expect(got?.attributes).toEqual(
				[...c.attributes].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1)),
			);
			expect(got?.findings).toBe(c.findings);
			expect(Buffer.from(got?.raw ?? []).equals(Buffer.from(c.raw))).toBe(true);
			expect(got?.time).toBe(c.time);
			expect(got?.diagnosis).toEqual(c.diagnosis);
		});

		it("moves re-signed crashes to their new buckets, with their counts in every rollup", async () => {
			// What the suite checks from here on is what the crashes say after the move.
			const moved: NewCrash[] = [];
			for (const [i, c] of crashes.entries()) {
				let now = c;
				if (c.signature.id === "b-nil")
					now = {
						...c,
						signature: { ...c.signature, id: "b-nil2", version: 2, title: "title of b-nil2" },
						diagnosis: { id: "rule-b-nil2", confidence: "certain" },
						diagnosisRank: 3,
					};
				else if (c.signature.id === "b-oom" && c.host === "host-1")
					now = {
						...c,
						signature: (crashes.find((x) => x.signature.id === "b-map") as NewCrash).signature,
					};
				else if (c.signature.id === "b-split" && i % 4 === 0)
					now = {
						...c,
						attributes: [
							...c.attributes.filter(([n, v]) => !(n === "preempted" && v === "main.other")),
							["cause", "moved"],
						],
					};
				if (now === c) continue;
				crashes[i] = now;
				moved.push(now);
			}
			const unknown = { ...(crashes[0] as NewCrash), id: "not-stored" };
			expect(await store.resignCrashes([...moved, unknown])).toBe(moved.length);
			expect(await store.getBucket("b-nil", "fatal")).toBeNull();
			expect(await store.getBucket("b-nil", "recovered")).toBeNull();
			const nil2 = crashes.filter((c) => c.signature.id === "b-nil2" && c.kind === "fatal");
			// An attribute's crashes are found in their new bucket.
			const eu = await store.listBuckets({ ...all, attributes: [["region", "eu"]] }, 50);
			expect(eu.find((b) => b.id === "b-nil2")?.hosts).toBe(
				new Set(nil2.filter((c) => c.attributes.some(([, v]) => v === "eu")).map((c) => c.host))
					.size,
			);
			expect(await store.getBucket("b-nil2", "fatal")).toMatchObject({
				count: nil2.length,
				diagnosis: { id: "rule-b-nil2", confidence: "certain" },
				firstSeen: Math.min(...nil2.map((c) => c.time)),
				lastSeen: Math.max(...nil2.map((c) => c.time)),
			});
			const oom = crashes.filter((c) => c.signature.id === "b-oom" && c.kind === "fatal");
			expect(await store.getBucket("b-oom", "fatal")).toMatchObject({
				count: oom.length,
				firstSeen: Math.min(...oom.map((c) => c.time)),
				lastSeen: Math.max(...oom.map((c) => c.time)),
			});
			const one = moved.find((c) => c.signature.id === "b-split") as NewCrash;
			const got = await store.getCrash(one.id);
			expect(got?.bucket).toBe("b-split");
			expect(got?.attributes).toContainEqual(["cause", "moved"]);
			expect(got?.attributes).not.toContainEqual(["preempted", "main.other"]);
			const scanned = [];
			for (let after: string | null = null; ; ) {
				const page = await store.scanCrashes(after, 101);
				scanned.push(...page);
				if (page.length < 101) break;
				after = page.at(-1)?.id as string;
			}
			expect(scanned.map((c) => c.id)).toEqual(crashes.map((c) => c.id).sort());
			expect(scanned.find((c) => c.id === one.id)).toEqual(got);
			// Signing them as they already are changes nothing.
			const before = await store.listBuckets(all, 50);
			expect(await store.resignCrashes(moved)).toBe(moved.length);
			expect(await store.listBuckets(all, 50)).toEqual(before);
		});

		it("lists and counts buckets as the crashes say, for every kind of filter", async () => {
			for (const f of filters) {
				const expected = new Map<string, { count: number; hosts: Set<string> }>();
				for (const c of crashes.filter((x) => matches(x, f))) {
					const e = expected.get(c.signature.id) ?? { count: 0, hosts: new Set() };
					e.count++;
					e.hosts.add(c.host);
					expected.set(c.signature.id, e);
				}
				const got = await store.listBuckets(f, 50);
				expect(
					Object.fromEntries(got.map((b) => [b.id, [b.count, b.hosts]])),
					JSON.stringify(f),
				).toEqual(
					Object.fromEntries([...expected].map(([id, e]) => [id, [e.count, e.hosts.size]])),
				);
				const counts = got.map((b) => b.count);
				expect(counts).toEqual([...counts].sort((a, b) => b - a));
				expect(await store.rankBuckets(f, 50), JSON.stringify(f)).toEqual(got.map((b) => b.id));
				expect(await store.rankBuckets(f, 2)).toEqual(got.slice(0, 2).map((b) => b.id));
			}
		});

		it("counts a bucket's hosts in windows over any part of its life", async () => {
			// Twelve days of crashes: most hosts crash in a bucket before, inside and after a window.
			const long = await open("long");
			try {
				const spread = sampleCrashes(400, 7, 12);
				await long.insertCrashes(spread);
				for (const [from, to] of [
					[0, 12 * 24],
					[5, 12 * 24 - 3],
					[30, 70],
					[24, 48],
					[47, 49],
					[100, 190],
				] as const) {
					const f: ReportFilter = { ...all, from: T0 + from * HOUR, to: T0 + to * HOUR };
					const hosts = new Map<string, Set<string>>();
					for (const c of spread.filter((x) => matches(x, f)))
						hosts.set(c.signature.id, (hosts.get(c.signature.id) ?? new Set()).add(c.host));
					const got = await long.listBuckets(f, 50);
					expect(
						Object.fromEntries(got.map((b) => [b.id, b.hosts])),
						JSON.stringify([from, to]),
					).toEqual(Object.fromEntries([...hosts].map(([id, h]) => [id, h.size])));
				}
			} finally {
				await long.close();
			}
		});

		it("keeps the surest diagnosis, first and last seen, and the versions of a bucket", async () => {
			const b = await store.getBucket("b-split", "fatal");
			const mine = crashes.filter((c) => c.signature.id === "b-split" && c.kind === "fatal");
			expect(b?.count).toBe(mine.length);
			expect(b?.diagnosis).toEqual({ id: "rule-b-split", confidence: "likely" });
			expect(b?.firstSeen).toBe(Math.min(...mine.map((c) => c.time)));
			expect(b?.lastSeen).toBe(Math.max(...mine.map((c) => c.time)));
			expect(b?.signature.frames).toEqual(["main.split"]);
			expect(b?.versions.reduce((n, v) => n + v.count, 0)).toBe(mine.length);
			expect(await store.getBucket("nope", "fatal")).toBeNull();
		});

		it("counts attribute values of a bucket and of all crashes, multi-valued ones once per crash", async () => {
			for (const f of filters) {
				for (const bucket of [undefined, "b-split"]) {
					const mine = crashes.filter(
						(c) => matches(c, f) && (bucket === undefined || c.signature.id === bucket),
					);
					const expected = new Map<string, number>();
					for (const c of mine)
						for (const key of new Set(pairs(c).map(([n, v]) => `${n}=${v}`)))
							expected.set(key, (expected.get(key) ?? 0) + 1);
					const got = await store.reportAttributes(bucket, f);
					expect(got.total, JSON.stringify(f)).toBe(mine.length);
					expect(
						Object.fromEntries(got.counts.map((c) => [`${c.attribute}=${c.value}`, c.count])),
						JSON.stringify(f),
					).toEqual(Object.fromEntries(expected));
				}
			}
		});

		it("counts each host once an hour from heartbeats, however many arrive", async () => {
			const fleet = await store.fleetAttributes(all);
			expect(fleet.total).toBe(12 * 72);
			const got = Object.fromEntries(
				fleet.counts.map((c) => [`${c.attribute}=${c.value}`, c.count]),
			);
			expect(got["region=eu"]).toBe(6 * 72);
			expect(got["goarch=arm64"]).toBe(4 * 72);
			expect(got["service=api"]).toBe(6 * 72);
			expect(got["host=host-3"]).toBe(72);
			expect((await store.fleetAttributes({ ...all, service: "worker" })).total).toBe(6 * 72);
			// 55 hours: 19 of the first day, the whole second day and 12 of the third.
			for (const service of [undefined, "api"]) {
				const window = { ...all, from: T0 + 5 * HOUR, to: T0 + 60 * HOUR, service };
				const expected = new Map<string, number>();
				for (const h of heartbeats)
					if (h.time >= window.from && h.time < window.to && h.time % HOUR < 30 * 60_000)
						if (service === undefined || h.service === service)
							for (const [n, v] of [
								["service", h.service],
								["version", h.version],
								["host", h.host],
								...h.attributes,
							])
								expected.set(`${n}=${v}`, (expected.get(`${n}=${v}`) ?? 0) + 1);
				const part = await store.fleetAttributes(window);
				expect(part.total).toBe((service === undefined ? 12 : 6) * 55);
				expect(
					Object.fromEntries(part.counts.map((c) => [`${c.attribute}=${c.value}`, c.count])),
				).toEqual(Object.fromEntries(expected));
			}
		});

		it("gives rates per interval with the host-hours in them", async () => {
			for (const f of filters)
				for (const step of [HOUR, 24 * HOUR]) {
					const expected = new Map<number, number>();
					for (const c of crashes.filter((x) => matches(x, f) && x.signature.id === "b-map")) {
						const t = c.time - (c.time % step);
						expected.set(t, (expected.get(t) ?? 0) + 1);
					}
					const got = await store.rates("b-map", f, step);
					expect(
						Object.fromEntries(got.filter((p) => p.count > 0).map((p) => [p.t, p.count])),
						JSON.stringify(f),
					).toEqual(Object.fromEntries(expected));
					const several = await store.bucketRates(["b-oom", "b-map", "b-none"], f, step);
					expect([...several.keys()]).toEqual(["b-oom", "b-map", "b-none"]);
					expect(
						Object.fromEntries((several.get("b-map") ?? []).map((p) => [p.t, p.count])),
						JSON.stringify(f),
					).toEqual(Object.fromEntries(expected));
					const oom = new Map<number, number>();
					for (const c of crashes.filter((x) => matches(x, f) && x.signature.id === "b-oom")) {
						const t = c.time - (c.time % step);
						oom.set(t, (oom.get(t) ?? 0) + 1);
					}
					expect(
						(several.get("b-oom") ?? []).map((p) => [p.t, p.count]),
						JSON.stringify(f),
					).toEqual([...oom].sort(([a], [b]) => a - b));
					expect(several.get("b-none")).toEqual([]);
				}
			const day = await store.rates(undefined, all, 24 * HOUR);
			expect(day.map((p) => p.hostHours)).toEqual([12 * 24, 12 * 24, 12 * 24]);
			const eu = await store.rates(
				undefined,
				{ ...all, attributes: [["region", "eu"]] },
				24 * HOUR,
			);
			expect(eu.map((p) => p.hostHours)).toEqual([6 * 24, 6 * 24, 6 * 24]);
			const both = await store.rates(
				undefined,
				{
					...all,
					attributes: [
						["region", "eu"],
						["goarch", "arm64"],
					],
				},
				24 * HOUR,
			);
			expect(both.map((p) => p.hostHours)).toEqual([2 * 24, 2 * 24, 2 * 24]);
		});

		it("lists crashes newest first, page by page, by bucket, host and text", async () => {
			const expected = crashes
				.filter((c) => c.signature.id === "b-oom")
				.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1))
				.map((c) => c.id);
			const seen: string[] = [];
			let cursor: { time: number; id: string } | undefined;
			for (;;) {
				const page = await store.listCrashes({ bucket: "b-oom", cursor, limit: 17 });
				seen.push(...page.map((c) => c.id));
				const last = page.at(-1);
				if (page.length < 17 || last === undefined) break;
				cursor = { time: last.time, id: last.id };
			}
			expect(seen).toEqual(expected);
			const host = await store.listCrashes({ host: "host-5", limit: 1000 });
			expect(host.length).toBe(crashes.filter((c) => c.host === "host-5").length);
			expect(
				(await store.listCrashes({ q: "crash 42 100%_", limit: 10 })).map((c) => c.id),
			).toEqual(["c000042"]);
			expect(await store.listCrashes({ q: "%%", limit: 10 })).toEqual([]);
			for (const f of filters) {
				const listed = await store.listCrashes({ ...f, limit: 10_000 });
				const ids = crashes
					.filter((c) => matches(c, f))
					.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1))
					.map((c) => c.id);
				expect(ids.length, JSON.stringify(f)).toBeGreaterThan(0);
				expect(
					listed.map((c) => c.id),
					JSON.stringify(f),
				).toEqual(ids);
			}
		});

		it("knows when each service version first appeared", async () => {
			const versions = await store.serviceVersions("api");
			expect(versions.map((v) => v.version).sort()).toEqual(["1.0", "1.1"]);
			const first = Math.min(
				...heartbeats.filter((h) => h.service === "api").map((h) => h.time),
				...crashes.filter((c) => c.service === "api" && c.version === "1.0").map((c) => c.time),
			);
			expect(versions.find((v) => v.version === "1.0")?.firstSeen).toBe(first);
			// Each version's host-hours: the distinct (hour, host) of its heartbeats.
			for (const v of versions) {
				const hours = new Set(
					heartbeats
						.filter((h) => h.service === "api" && h.version === v.version)
						.map((h) => `${Math.floor(h.time / HOUR)}/${h.host}`),
				);
				expect(v.hostHours, v.version).toBe(hours.size);
			}
		});

		it("stores tokens by hash", async () => {
			await store.createToken({ id: "t1", name: "ci", scope: "read", hash: "abc", created: T0 });
			expect(await store.findToken("abc")).toEqual({
				id: "t1",
				name: "ci",
				scope: "read",
				hash: "abc",
				created: T0,
			});
			expect(await store.findToken("abd")).toBeNull();
			await expect(
				store.createToken({ id: "t2", name: "x", scope: "read", hash: "abc", created: T0 }),
			).rejects.toThrow();
		});

		it("expires old crashes and host-hours and keeps every count the rollups answer", async () => {
			const cut = T0 + 24 * HOUR;
			// The filters rollups answer (at most one attribute, not combined with a service).
			const rolled = filters.filter(
				(f) => f.attributes.length === 0 || (f.attributes.length === 1 && f.service === undefined),
			);
			const before = await Promise.all(rolled.map((f) => store.listBuckets(f, 50)));
			const rates = await store.rates(undefined, all, 6 * HOUR);
			const fleet = await store.fleetAttributes(all);
			const expired = await store.expire(cut);
			expect(expired.crashes).toBe(crashes.filter((c) => c.received < cut).length);
			expect(expired.hostHours).toBe(24 * 12);
			const old = crashes.find((c) => c.received < cut) as NewCrash;
			expect(await store.getCrash(old.id)).toBeNull();
			const kept = await store.listCrashes({ limit: 10_000 });
			expect(kept.length).toBe(crashes.filter((c) => c.received >= cut).length);
			expect(await Promise.all(rolled.map((f) => store.listBuckets(f, 50)))).toEqual(before);
			expect(await store.rates(undefined, all, 6 * HOUR)).toEqual(rates);
			expect(await store.fleetAttributes(all)).toEqual(fleet);
			expect(await store.getBucket("b-split", "fatal")).toMatchObject({
				count: before[0]?.find((b) => b.id === "b-split")?.count,
			});
			expect(await store.expire(cut)).toEqual({ crashes: 0, hostHours: 0 });
			// A heartbeat arriving late for an expired hour is counted already; one for a later hour
			// of a new host counts.
			const late = heartbeats[0] as Heartbeat;
			await store.insertHeartbeats([late, { ...late, host: "host-new", time: cut + 5 * 60_000 }]);
			const fleetAfter = await store.fleetAttributes(all);
			expect(fleetAfter.total).toBe(fleet.total + 1);
			const countOf = (a: typeof fleet, key: string) =>
				a.counts.find((c) => `${c.attribute}=${c.value}` === key)?.count;
			expect(countOf(fleetAfter, `host=${late.host}`)).toBe(countOf(fleet, `host=${late.host}`));
			expect(countOf(fleetAfter, "host=host-new")).toBe(1);
			// An older cut does not move the line back.
			await store.expire(cut - 10 * HOUR);
			await store.insertHeartbeats([{ ...late, host: "host-new" }]);
			expect((await store.fleetAttributes(all)).total).toBe(fleet.total + 1);
			expect(await store.ping()).toBe(true);
		});

		alertConformance(() => store, open, crashes, T0);
		streamConformance(
			() => store,
			open,
			(n, prefix) =>
				sampleCrashes(n, prefix.length).map((c, i) => ({
					...c,
					id: `${prefix}-${i}`,
					idempotencyKey: `${prefix}-${i}`,
				})),
			T0,
		);
	});
}
