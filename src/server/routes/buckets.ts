import type { FastifyInstance } from "fastify";
import { type CountTable, correlate, crossCorrelate, findRegressions } from "../../fleet/index.js";
import type { AttributeCounts, BucketSummary, ReportFilter } from "../../store/index.js";
import type { ServerContext } from "../_app.js";
import { ApiError } from "../_errors.js";
import { readCount, readFilter } from "../_query.js";
import { crashSummaryJson } from "./crashes.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SAMPLES = 10;
/** How far apart in hours two rates are compared for a correlation in time. */
const MAX_LAG = 24;

type Query = Record<string, string | string[] | undefined>;

/** `GET /api/v1/buckets`, `/buckets/{id}` and `/buckets/{id}/correlations`. */
export function bucketRoutes(app: FastifyInstance, ctx: ServerContext): void {
	app.get("/api/v1/buckets", { config: { scope: "read" } }, async (request) => {
		const query = request.query as Query;
		const filter = readFilter(query, ctx.now());
		const limit = readCount("limit", single(query, "limit"), 50, 1000);
		const buckets = await ctx.store.listBuckets(filter, limit);
		// Rank change: the rank each bucket had in the window of the same length just before.
		const span = filter.to - filter.from;
		const before = await ctx.store.rankBuckets(
			{ ...filter, from: filter.from - span, to: filter.from },
			1000,
		);
		const previousRank = new Map(before.map((id, i) => [id, i + 1]));
		const versions = await ctx.store.bucketVersions(
			buckets.map((b) => b.id),
			filter.kind,
		);
		const released = await ctx.store.serviceVersions(filter.service);
		return {
			from: new Date(filter.from).toISOString(),
			to: new Date(filter.to).toISOString(),
			buckets: buckets.map((b, i) => {
				const regressions = findRegressions(versions.get(b.id) ?? [], released, ctx.now());
				return {
					...summaryJson(b, ctx),
					new: b.firstSeen >= filter.from,
					regressed: regressions.length > 0,
					rank: i + 1,
					previousRank: previousRank.get(b.id) ?? null,
				};
			}),
		};
	});

	app.get("/api/v1/buckets/:id", { config: { scope: "read" } }, async (request) => {
		const { id } = request.params as { id: string };
		const now = ctx.now();
		const kind = readFilter(request.query as Query, now).kind;
		const bucket = await ctx.store.getBucket(id, kind);
		if (bucket === null) throw new ApiError("not_found", `no bucket ${id.slice(0, 80)}`);
		const released = await ctx.store.serviceVersions(undefined);
		const samples = await ctx.store.listCrashes({ bucket: id, kind, limit: SAMPLES });
		const findings = JSON.parse(bucket.findings) as unknown[];
		return {
			...summaryJson(bucket, ctx),
			signature: {
				version: bucket.signature.version,
				reason: bucket.signature.reason,
				frames: bucket.signature.frames,
			},
			why: bucket.signature.why,
			diagnosis:
				bucket.diagnosis === null
					? null
					: { ...ctx.diagnosisJson(bucket.diagnosis), finding: findings[0] ?? null },
			findings,
			versions: bucket.versions.map((v) => ({
				...v,
				firstSeen: new Date(v.firstSeen).toISOString(),
				lastSeen: new Date(v.lastSeen).toISOString(),
			})),
			regressions: findRegressions(bucket.versions, released, now),
			samples: samples.map((c) => crashSummaryJson(c, ctx)),
		};
	});

	app.get("/api/v1/buckets/:id/correlations", { config: { scope: "read" } }, async (request) => {
		const { id } = request.params as { id: string };
		const query = request.query as Query;
		const reference = single(query, "reference") ?? "crashes";
		if (reference !== "crashes" && reference !== "fleet")
			throw new ApiError(
				"bad_request",
				`reference: '${reference.slice(0, 40)}' is not crashes or fleet`,
			);
		const filter = readFilter(query, ctx.now());
		const inBucket = await ctx.store.reportAttributes(id, filter);
		if (inBucket.total === 0 && (await ctx.store.getBucket(id, filter.kind)) === null)
			throw new ApiError("not_found", `no bucket ${id.slice(0, 80)}`);
		const others =
			reference === "fleet"
				? await ctx.store.fleetAttributes(filter)
				: subtract(await ctx.store.reportAttributes(undefined, filter), inBucket);
		const bucketTable = table(inBucket);
		// Against the fleet, only what heartbeats report can be compared.
		const referenceTable = table(others);
		const known = new Set(others.counts.map((c) => c.attribute));
		const tested =
			reference === "fleet"
				? { ...bucketTable, counts: bucketTable.counts.filter((c) => known.has(c.attribute)) }
				: bucketTable;
		return {
			bucket: id,
			reference,
			from: new Date(filter.from).toISOString(),
			to: new Date(filter.to).toISOString(),
			bucketTotal: inBucket.total,
			referenceTotal: others.total,
			correlations: correlate(tested, referenceTable),
			time: await timeCorrelations(ctx, id, filter),
		};
	});
}

/**
 * How the bucket's rate follows the other stream's (fatal against recovered, and back), per hour
 * with lags of up to a day each way, and per day without lag when the window holds a week or more.
 */
async function timeCorrelations(ctx: ServerContext, id: string, filter: ReportFilter) {
	const other = filter.kind === "fatal" ? "recovered" : "fatal";
	const out = [];
	for (const [interval, step, maxLag] of [
		["hour", HOUR, MAX_LAG],
		["day", DAY, 0],
	] as const) {
		const from = Math.floor(filter.from / step) * step;
		const n = Math.ceil((filter.to - from) / step);
		if (interval === "day" && n < 7) continue;
		const dense = (points: readonly { t: number; count: number }[]): number[] => {
			const series = new Array<number>(n).fill(0);
			for (const p of points) {
				const i = Math.round((p.t - from) / step);
				if (i >= 0 && i < n) series[i] = p.count;
			}
			return series;
		};
		const mine = dense(await ctx.store.rates(id, filter, step));
		const theirs = dense(await ctx.store.rates(undefined, { ...filter, kind: other }, step));
		if (theirs.every((x) => x === 0) || mine.every((x) => x === 0)) continue;
		const lags = crossCorrelate(mine, theirs, Math.min(maxLag, Math.floor(n / 4)));
		const best = lags.reduce<(typeof lags)[number] | undefined>(
			(a, b) => (a === undefined || Math.abs(b.r) > Math.abs(a.r) ? b : a),
			undefined,
		);
		out.push({
			against: other,
			interval,
			r: lags.find((l) => l.lag === 0)?.r ?? null,
			best: best ?? null,
		});
	}
	return out;
}

function subtract(all: AttributeCounts, part: AttributeCounts): AttributeCounts {
	const minus = new Map(part.counts.map((c) => [`${c.attribute}\0${c.value}`, c.count]));
	return {
		total: all.total - part.total,
		counts: all.counts
			.map((c) => ({ ...c, count: c.count - (minus.get(`${c.attribute}\0${c.value}`) ?? 0) }))
			.filter((c) => c.count > 0),
	};
}

function table(counts: AttributeCounts): CountTable {
	return { total: counts.total, counts: counts.counts };
}

function single(query: Query, name: string): string | undefined {
	const v = query[name];
	if (Array.isArray(v)) throw new ApiError("bad_request", `${name}: given more than once`);
	return v;
}

function summaryJson(b: BucketSummary, ctx: ServerContext): Record<string, unknown> {
	return {
		id: b.id,
		title: b.title,
		count: b.count,
		hosts: b.hosts,
		firstSeen: new Date(b.firstSeen).toISOString(),
		lastSeen: new Date(b.lastSeen).toISOString(),
		diagnosis: ctx.diagnosisJson(b.diagnosis),
	};
}
