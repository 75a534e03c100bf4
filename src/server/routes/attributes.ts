import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../_app.js";
import { readCount, readFilter } from "../_query.js";

/** `GET /api/v1/attributes`: the attribute names of the crashes in a window, with their commonest values. */
export function attributeRoutes(app: FastifyInstance, ctx: ServerContext): void {
	app.get("/api/v1/attributes", { config: { scope: "read" } }, async (request) => {
		const query = request.query as Record<string, string | string[] | undefined>;
		const filter = readFilter(query, ctx.now());
		const limit = readCount(
			"limit",
			typeof query.limit === "string" ? query.limit : undefined,
			20,
			1000,
		);
		const counts = await ctx.store.reportAttributes(undefined, filter);
		const byName = new Map<string, { value: string; count: number }[]>();
		for (const c of counts.counts) {
			const values = byName.get(c.attribute) ?? [];
			values.push({ value: c.value, count: c.count });
			byName.set(c.attribute, values);
		}
		return {
			from: new Date(filter.from).toISOString(),
			to: new Date(filter.to).toISOString(),
			total: counts.total,
			attributes: [...byName]
				.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
				.map(([name, values]) => ({
					name,
					distinct: values.length,
					values: values
						.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
						.slice(0, limit),
				})),
		};
	});
}
