import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../_app.js";
import { ApiError } from "../_errors.js";
import { readFilter } from "../_query.js";

const HOUR = 3_600_000;
const INTERVALS: Readonly<Record<string, number>> = { hour: HOUR, day: 24 * HOUR };
/** Points one series may have: a year of hours. */
const MAX_POINTS = 366 * 24;
/** Buckets one request may ask the rates of. */
const MAX_BUCKETS = 100;

/** `GET /api/v1/rates`: reports per hour or day, and per host-hour where heartbeats exist. */
export function rateRoutes(app: FastifyInstance, ctx: ServerContext): void {
	app.get("/api/v1/rates", { config: { scope: "read" } }, async (request) => {
		const query = request.query as Record<string, string | string[] | undefined>;
		const interval = query.interval ?? "hour";
		const step = typeof interval === "string" ? INTERVALS[interval] : undefined;
		if (step === undefined)
			throw new ApiError(
				"bad_request",
				`interval: '${String(interval).slice(0, 40)}' is not hour or day`,
			);
		const bucket = query.bucket;
		if (Array.isArray(bucket)) throw new ApiError("bad_request", "bucket: given more than once");
		const buckets = query.buckets;
		if (Array.isArray(buckets)) throw new ApiError("bad_request", "buckets: given more than once");
		if (buckets !== undefined && bucket !== undefined)
			throw new ApiError("bad_request", "bucket, buckets: give one or the other");
		const filter = readFilter(query, ctx.now());
		const from = Math.floor(filter.from / step) * step;
		const to = Math.ceil(filter.to / step) * step;
		if ((to - from) / step > MAX_POINTS)
			throw new ApiError(
				"bad_request",
				`the window holds ${(to - from) / step} ${interval}s; at most ${MAX_POINTS} points`,
			);
		if (buckets !== undefined) {
			const ids = [...new Set(buckets.split(",").filter((b) => b !== ""))];
			if (ids.length === 0 || ids.length > MAX_BUCKETS)
				throw new ApiError(
					"bad_request",
					`buckets: give 1 to ${MAX_BUCKETS} bucket ids, separated by commas (got ${ids.length})`,
				);
			const rates = await ctx.store.bucketRates(ids, { ...filter, from, to }, step);
			return {
				kind: filter.kind,
				interval,
				buckets: ids.map((id) => {
					const counts = new Map((rates.get(id) ?? []).map((p) => [p.t, p.count]));
					const series = [];
					for (let t = from; t < to; t += step)
						series.push({ t: new Date(t).toISOString(), count: counts.get(t) ?? 0 });
					return { bucket: id, series };
				}),
			};
		}
		const points = new Map(
			(await ctx.store.rates(bucket || undefined, { ...filter, from, to }, step)).map((p) => [
				p.t,
				p,
			]),
		);
		const series = [];
		for (let t = from; t < to; t += step) {
			const p = points.get(t);
			const count = p?.count ?? 0;
			const hostHours = p?.hostHours ?? 0;
			series.push({
				t: new Date(t).toISOString(),
				count,
				hostHours,
				perHostHour: hostHours > 0 ? count / hostHours : null,
			});
		}
		return { kind: filter.kind, interval, bucket: bucket || null, series };
	});
}
