import type { FastifyInstance } from "fastify";
import type { AlertRecord, AlertState } from "../../store/index.js";
import { alertRuleJson, readAlertRule } from "../_alert-rule.js";
import type { ServerContext } from "../_app.js";
import { isObject } from "../_body.js";
import { ApiError } from "../_errors.js";
import { decodeCursor, encodeCursor, readCount } from "../_query.js";

const STATES: readonly AlertState[] = ["pending", "sent", "failed", "cancelled"];

/** `/api/v1/alert-rules` (list, create, delete) and `GET /api/v1/alerts` (alerts and their delivery). */
export function alertRoutes(app: FastifyInstance, ctx: ServerContext): void {
	app.get("/api/v1/alert-rules", { config: { scope: ["read", "admin"] } }, async () => ({
		rules: (await ctx.store.alerts.listRules()).map(alertRuleJson),
	}));

	app.post("/api/v1/alert-rules", { config: { scope: "admin" } }, async (request, reply) => {
		const body = request.body;
		if (!isObject(body)) throw new ApiError("bad_request", "body: must be a JSON object");
		const known = ["name", "service", "event", "threshold", "minCount", "url", "format"];
		const unknown = Object.keys(body).find((k) => !known.includes(k));
		if (unknown !== undefined)
			throw new ApiError(
				"bad_request",
				`${unknown.slice(0, 40)}: not a field of a rule (${known.join(", ")})`,
			);
		const read = readAlertRule(body, ctx.now());
		if ("problem" in read) throw new ApiError("bad_request", read.problem);
		await ctx.store.alerts.createRule(read.rule);
		return reply.status(201).send({ rule: alertRuleJson(read.rule) });
	});

	app.delete("/api/v1/alert-rules/:id", { config: { scope: "admin" } }, async (request) => {
		const { id } = request.params as { id: string };
		if (!(await ctx.store.alerts.deleteRule(id)))
			throw new ApiError("not_found", `no alert rule ${id.slice(0, 80)}`);
		return { deleted: id };
	});

	app.get("/api/v1/alerts", { config: { scope: ["read", "admin"] } }, async (request) => {
		const query = request.query as Record<string, string | undefined>;
		const limit = readCount("limit", query.limit, 50, 1000);
		const state = query.state;
		if (state !== undefined && !(STATES as readonly string[]).includes(state))
			throw new ApiError("bad_request", `state: give ${STATES.join(", ")}`);
		const cursor =
			query.cursor === undefined || query.cursor === "" ? undefined : decodeCursor(query.cursor);
		const rows = await ctx.store.alerts.listAlerts({
			rule: query.rule,
			state: state as AlertState | undefined,
			cursor: cursor === undefined ? undefined : { created: cursor.time, id: cursor.id },
			limit: limit + 1,
		});
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return {
			alerts: page.map(alertJson),
			next: rows.length > limit && last !== undefined ? encodeCursor(last.created, last.id) : null,
		};
	});
}

const time = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** An alert with its delivery, as the API and the command line show it. */
export function alertJson(a: AlertRecord): Record<string, unknown> {
	const details = JSON.parse(a.details) as {
		bucket: { title: string; diagnosis: unknown };
		facts: Record<string, unknown>;
	};
	return {
		id: a.id,
		rule: a.rule,
		event: a.event,
		service: a.service,
		bucket: a.bucket,
		title: details.bucket.title,
		diagnosis: details.bucket.diagnosis,
		facts: details.facts,
		created: time(a.created),
		state: a.state,
		attempts: a.attempts,
		nextAttempt: a.state === "pending" ? time(a.nextAttempt) : null,
		lastStatus: a.lastStatus,
		lastError: a.lastError,
		sentAt: time(a.sentAt),
	};
}
