import type { FastifyInstance } from "fastify";
import type { Heartbeat } from "../../store/index.js";
import type { ServerContext } from "../_app.js";
import { isObject, readOrigin } from "../_body.js";
import { ApiError } from "../_errors.js";

/** `POST /api/v1/heartbeats`: one heartbeat, or `{"heartbeats": [...]}`. */
export function heartbeatRoutes(app: FastifyInstance, ctx: ServerContext): void {
	app.post("/api/v1/heartbeats", { config: { scope: "ingest" } }, async (request, reply) => {
		const body = request.body;
		if (!isObject(body)) throw new ApiError("bad_request", "body: must be a JSON object");
		const list = body.heartbeats === undefined ? [body] : body.heartbeats;
		if (!Array.isArray(list)) throw new ApiError("bad_request", "heartbeats: must be an array");
		if (list.length > ctx.limits.maxHeartbeatsPerRequest)
			throw new ApiError(
				"too_large",
				`${list.length} heartbeats; at most ${ctx.limits.maxHeartbeatsPerRequest} in one request`,
			);
		const now = ctx.now();
		const heartbeats: Heartbeat[] = list.map((h: unknown, i) => {
			const where = body.heartbeats === undefined ? "" : `heartbeats[${i}].`;
			if (!isObject(h))
				throw new ApiError("bad_request", `${where.slice(0, -1) || "body"}: must be an object`);
			const origin = readOrigin(h, ctx.limits, where, now);
			if (origin.host === "") throw new ApiError("bad_request", `${where}host: missing`);
			return origin;
		});
		await ctx.heartbeats.submit(heartbeats);
		return reply.status(200).send({ accepted: heartbeats.length });
	});
}
