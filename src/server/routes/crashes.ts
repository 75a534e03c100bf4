import { gunzipSync } from "node:zlib";
import type { FastifyInstance } from "fastify";
import { hasSplitSPSignature, splitSPVictims } from "../../diagnose/index.js";
import type { CrashRecord, CrashSummary } from "../../store/index.js";
import { type Crash, parseCrashes } from "../../traceback/index.js";
import { bucketGoroutines, firstGoroutineCrashed } from "../../triage/index.js";
import type { ServerContext } from "../_app.js";
import { isObject, readBodyKind, readOrigin, readString } from "../_body.js";
import { ApiError } from "../_errors.js";
import type { Report } from "../_ingest.js";
import {
	decodeCursor,
	encodeCursor,
	QUERY_PARAMETERS,
	readAttributes,
	readCount,
	readKind,
	readTime,
} from "../_query.js";

const MAX_KEY = 200;

/** `POST /api/v1/crashes` (a report as the process wrote it), `GET /api/v1/crashes[/{id}]`. */
export function crashRoutes(app: FastifyInstance, ctx: ServerContext): void {
	app.post("/api/v1/crashes", { config: { scope: "ingest" } }, async (request, reply) => {
		const report = readReport(
			request.body,
			request.query as Record<string, unknown>,
			request.headers["idempotency-key"],
			ctx,
		);
		const crashes = await ctx.prepare.prepare(report);
		const stored = await ctx.crashes.submit(crashes);
		return reply.status(stored.every((s) => s.duplicate) ? 200 : 201).send({
			crashes: stored.map((s) => ({ id: s.id, bucket: s.bucket, duplicate: s.duplicate })),
		});
	});

	app.get("/api/v1/crashes", { config: { scope: "read" } }, async (request) => {
		const query = request.query as Record<string, string | undefined>;
		for (const [name, value] of Object.entries(query))
			if (Array.isArray(value) && QUERY_PARAMETERS.has(name))
				throw new ApiError("bad_request", `${name}: given more than once`);
		const limit = readCount("limit", query.limit, 50, 1000);
		const cursor =
			query.cursor === undefined || query.cursor === "" ? undefined : decodeCursor(query.cursor);
		const time = (name: "from" | "to") =>
			query[name] === undefined || query[name] === "" ? undefined : readTime(name, query[name], 0);
		const rows = await ctx.store.listCrashes({
			bucket: query.bucket,
			host: query.host,
			q: query.q?.slice(0, 200),
			kind: query.kind === undefined ? undefined : readKind(query.kind),
			from: time("from"),
			to: time("to"),
			service: query.service === "" ? undefined : query.service,
			attributes: readAttributes(query),
			cursor,
			limit: limit + 1,
		});
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return {
			crashes: page.map((c) => crashSummaryJson(c, ctx)),
			next: rows.length > limit && last !== undefined ? encodeCursor(last.time, last.id) : null,
		};
	});

	app.get("/api/v1/crashes/:id", { config: { scope: "read" } }, async (request) => {
		const { id } = request.params as { id: string };
		const crash = await ctx.store.getCrash(id);
		if (crash === null) throw new ApiError("not_found", `no crash ${id.slice(0, 80)}`);
		return crashJson(crash, ctx);
	});
}

function readReport(
	body: unknown,
	query: Record<string, unknown>,
	keyHeader: string | string[] | undefined,
	ctx: ServerContext,
): Report {
	let fields: Readonly<Record<string, unknown>>;
	let text: unknown;
	if (typeof body === "string") {
		// text/plain: the crash text is the body, the other fields are query parameters.
		const attributes: Record<string, unknown> = {};
		const rest: Record<string, unknown> = {};
		for (const [name, value] of Object.entries(query)) {
			if (Array.isArray(value))
				throw new ApiError("bad_request", `query ${name}: given more than once`);
			if (name.startsWith("attributes.")) attributes[name.slice("attributes.".length)] = value;
			else rest[name] = value;
		}
		fields = { ...rest, attributes };
		text = body;
	} else if (isObject(body)) {
		fields = body;
		text = body.text;
	} else
		throw new ApiError(
			"bad_request",
			"body: must be a JSON object with a text field, or text/plain crash text",
		);
	if (typeof text !== "string" || text.trim() === "")
		throw new ApiError("bad_request", "text: the crash text is missing or empty");
	const origin = readOrigin(fields, ctx.limits, "", ctx.now());
	const key =
		typeof keyHeader === "string" ? keyHeader : readString(fields, "idempotencyKey", MAX_KEY, "");
	if (key !== undefined && (key.length > MAX_KEY || key === ""))
		throw new ApiError("bad_request", `Idempotency-Key: must be 1 to ${MAX_KEY} characters`);
	return { ...origin, text, kind: readBodyKind(fields, ""), idempotencyKey: key ?? null };
}

/** A crash as lists show it. */
export function crashSummaryJson(c: CrashSummary, ctx: ServerContext): Record<string, unknown> {
	return {
		id: c.id,
		kind: c.kind,
		time: new Date(c.time).toISOString(),
		host: c.host,
		service: c.service,
		version: c.version,
		bucket: c.bucket,
		message: c.message,
		diagnosis: ctx.diagnosisJson(c.diagnosis),
	};
}

function crashJson(c: CrashRecord, ctx: ServerContext): Record<string, unknown> {
	const attributes: Record<string, string | string[]> = {};
	for (const [name, value] of c.attributes) {
		const old = attributes[name];
		attributes[name] = old === undefined ? value : [...(Array.isArray(old) ? old : [old]), value];
	}
	const text = c.raw === null ? null : gunzipSync(c.raw).toString();
	// The crash is parsed again from its text: the parse of the gocrash that serves it.
	const parsed = text === null ? null : parseCrashes(text);
	const crash = parsed?.crashes[0] ?? null;
	return {
		...crashSummaryJson(c, ctx),
		received: new Date(c.received).toISOString(),
		attributes,
		crash,
		race: parsed?.races[0] ?? null,
		groups: crash === null ? [] : groupsJson(crash),
		victims:
			crash === null || !hasSplitSPSignature(crash)
				? []
				: splitSPVictims(crash).map((v) => ({
						goroutine: v.goroutine.id,
						function: v.frame.function,
					})),
		findings: JSON.parse(c.findings) as unknown,
		text,
		textSize: c.rawSize,
	};
}

/** The crash's goroutines grouped as `gocrash parse` groups them, by the ids in `crash.goroutines`. */
function groupsJson(crash: Crash): Record<string, unknown>[] {
	return bucketGoroutines(crash.goroutines, "pointers", firstGoroutineCrashed(crash)).map((b) => ({
		ids: b.ids,
		count: b.count,
		// A goroutine printed without a header (a Windows exception's crashing one) has no state
		// text: its state is the one the parser gave it.
		state: b.goroutine.stateText === "" ? b.goroutine.state : b.goroutine.stateText,
		waitMinutes: b.waitMinutes,
		crashed: b.crashed,
	}));
}
