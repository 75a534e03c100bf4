import { createGunzip } from "node:zlib";
import Fastify, {
	type FastifyInstance,
	type FastifyReply,
	type FastifyRequest,
	LogController,
} from "fastify";
import type { Rule } from "../knowledge/index.js";
import type {
	Heartbeat,
	NewCrash,
	Store,
	StoredCrash,
	TokenRecord,
	TokenScope,
} from "../store/index.js";
import { type AlertOptions, AlertRunner } from "./_alerts.js";
import { authorize, TokenLookup } from "./_auth.js";
import { Batcher } from "./_batcher.js";
import { ApiError, toApiError } from "./_errors.js";
import { type LogStreamOptions, LogStreams } from "./_log-streams.js";
import { PreparePool } from "./_prepare-pool.js";
import { RateLimiter } from "./_rate-limit.js";
import { webRoutes } from "./_web.js";
import { alertRoutes } from "./routes/alerts.js";
import { attributeRoutes } from "./routes/attributes.js";
import { bucketRoutes } from "./routes/buckets.js";
import { crashRoutes } from "./routes/crashes.js";
import { heartbeatRoutes } from "./routes/heartbeats.js";
import { otlpLogRoutes } from "./routes/otlp-logs.js";
import { rateRoutes } from "./routes/rates.js";

/** Limits on what one request may hold. */
export interface ServerLimits {
	/** Bytes of a request body, after gzip is undone. */
	readonly maxBody: number;
	readonly maxCrashesPerRequest: number;
	readonly maxHeartbeatsPerRequest: number;
	readonly maxAttributes: number;
	readonly maxAttributeName: number;
	readonly maxAttributeValue: number;
	/** Requests per second per token (a burst of as many is allowed); 0: no limit. */
	readonly requestsPerSecond: number;
}

/** The limits `gocrash serve` uses unless told otherwise. */
export const DEFAULT_LIMITS: ServerLimits = {
	maxBody: 8 * 1024 * 1024,
	maxCrashesPerRequest: 100,
	maxHeartbeatsPerRequest: 10_000,
	maxAttributes: 64,
	maxAttributeName: 128,
	maxAttributeValue: 1024,
	requestsPerSecond: 0,
};

/** What the server is made of. */
export interface ServerOptions {
	readonly store: Store;
	readonly rules: readonly Rule[];
	readonly limits?: Partial<ServerLimits>;
	/** pino log options: false for no log, or the stream to log to. */
	readonly log?: false | { readonly stream: NodeJS.WritableStream; readonly level?: string };
	readonly now?: () => number;
	/** Worker threads that parse and diagnose reports; 0 (the default): this thread does. */
	readonly prepareThreads?: number;
	/** The built dashboard's directory (index.html, assets/), served at `/`; none: no dashboard. */
	readonly web?: string;
	/** When alert rules are evaluated and their alerts sent; false: not by this server. */
	readonly alerts?: Partial<AlertOptions> | false;
	/** When OTLP log streams count as quiet; false: this server ends no quiet streams. */
	readonly logStreams?: Partial<LogStreamOptions> | false;
}

/** What every route sees. */
export interface ServerContext {
	readonly store: Store;
	readonly rules: readonly Rule[];
	/** A diagnosis as the API gives it: the rule's id and confidence, with its title and category. */
	readonly diagnosisJson: (
		d: { readonly id: string; readonly confidence: string } | null,
	) => Record<string, unknown> | null;
	readonly limits: ServerLimits;
	readonly now: () => number;
	readonly prepare: PreparePool;
	readonly crashes: Batcher<NewCrash, StoredCrash>;
	readonly heartbeats: Batcher<Heartbeat, null>;
	readonly logStreams: LogStreams;
}

declare module "fastify" {
	interface FastifyContextConfig {
		/** The token scope the route needs (or one of them); none: open to all (health checks). */
		scope?: TokenScope | readonly TokenScope[];
	}
	interface FastifyRequest {
		token: TokenRecord | null;
	}
}

/** Builds the fleet service: the versioned JSON API over a store. */
export function createServer(options: ServerOptions): FastifyInstance {
	const limits = { ...DEFAULT_LIMITS, ...options.limits };
	const now = options.now ?? Date.now;
	const store = options.store;
	const app = Fastify({
		bodyLimit: limits.maxBody,
		// One line per request, written in onResponse, instead of Fastify's two.
		logController: new LogController({ disableRequestLogging: true }),
		logger:
			options.log === undefined || options.log === false
				? false
				: { level: options.log.level ?? "info", stream: options.log.stream },
		return503OnClosing: true,
		forceCloseConnections: "idle",
		keepAliveTimeout: 5000,
		ajv: { customOptions: { coerceTypes: false } },
	});
	const rulesById = new Map(options.rules.map((r) => [r.id, r]));
	const prepare = new PreparePool({
		rules: options.rules,
		maxCrashes: limits.maxCrashesPerRequest,
		now,
		threads: options.prepareThreads ?? 0,
	});
	const context: ServerContext = {
		store,
		rules: options.rules,
		diagnosisJson: (d) => {
			if (d === null) return null;
			const rule = rulesById.get(d.id);
			return { ...d, title: rule?.title ?? null, category: rule?.category ?? null };
		},
		limits,
		now,
		prepare,
		// SQLite has one writer: one transaction at a time, each holding every request that waited.
		crashes: new Batcher((items) => store.insertCrashes(items), {
			maxItems: 2000,
			concurrency: store.dialect === "sqlite" ? 1 : 4,
		}),
		heartbeats: new Batcher(
			async (items) => {
				await store.insertHeartbeats(items);
				return items.map(() => null);
			},
			{ maxItems: 20_000, concurrency: store.dialect === "sqlite" ? 1 : 4 },
		),
		logStreams: new LogStreams(
			store,
			prepare,
			limits,
			now,
			app.log,
			options.logStreams === false ? {} : options.logStreams,
		),
	};
	const limiter = new RateLimiter(limits.requestsPerSecond, now);
	const tokens = new TokenLookup(store, now);

	// While closing, every answer closes its connection, so that shutdown does not wait for
	// kept-alive connections to time out.
	let closing = false;
	app.addHook("preClose", async () => {
		closing = true;
	});
	const alerts =
		options.alerts === false ? null : new AlertRunner(store, now, app.log, options.alerts);
	alerts?.start();
	if (options.logStreams !== false) context.logStreams.start();
	app.addHook("onClose", async () => {
		await alerts?.stop();
		await context.logStreams.stop();
		await context.prepare.close();
	});
	app.addHook("onSend", async (_request, reply) => {
		if (closing) void reply.header("connection", "close");
	});
	app.decorateRequest("token", null);
	app.addHook("onRequest", async (request) => {
		const scope = request.routeOptions.config.scope;
		if (scope === undefined) return;
		request.token = await authorize(tokens, request.headers.authorization, scope);
		const wait = limiter.take(request.token.id);
		if (wait > 0)
			throw new ApiError(
				"rate_limited",
				`more than ${limits.requestsPerSecond} requests per second for this token`,
				{
					"retry-after": String(Math.ceil(wait / 1000)),
				},
			);
	});
	app.addHook("preParsing", async (request, _reply, payload) => {
		const encoding = request.headers["content-encoding"];
		if (encoding === undefined || encoding === "identity") return payload;
		if (encoding !== "gzip")
			throw new ApiError(
				"unsupported_media_type",
				`Content-Encoding '${encoding.slice(0, 40)}' is not supported: send gzip or none`,
			);
		const gunzip = createGunzip();
		// The body limit counts the bytes after gzip; Content-Length counts them before.
		const counted = gunzip as typeof gunzip & { receivedEncodedLength: number };
		counted.receivedEncodedLength = 0;
		payload.on("data", (chunk: Buffer) => {
			counted.receivedEncodedLength += chunk.length;
		});
		payload.on("error", (error) => gunzip.destroy(error));
		gunzip.on("error", () => {
			// Reported by the body parser that reads the stream.
		});
		return payload.pipe(gunzip);
	});
	app.removeContentTypeParser(["text/plain"]);
	app.addContentTypeParser("text/plain", { parseAs: "string" }, (_request, body, done) =>
		done(null, body),
	);
	app.addHook("onResponse", async (request: FastifyRequest, reply: FastifyReply) => {
		request.log.info(
			{
				method: request.method,
				url: request.url,
				status: reply.statusCode,
				ms: Math.round(reply.elapsedTime * 10) / 10,
				token: request.token?.name ?? null,
				remote: request.ip,
			},
			"request",
		);
	});
	app.setErrorHandler((error, request, reply) => {
		const api = toApiError(error);
		if (api.code === "internal") request.log.error({ err: error }, "internal error");
		void reply
			.status(api.status)
			.headers(api.headers)
			.send({ error: { code: api.code, message: api.message } });
	});
	app.setNotFoundHandler((request, reply) => {
		void reply.status(404).send({
			error: {
				code: "not_found",
				message: `no route ${request.method} ${request.url.split("?")[0]?.slice(0, 200)}`,
			},
		});
	});

	app.get("/healthz", async () => ({ status: "ok" }));
	app.get("/readyz", async () => {
		if (await store.ping()) return { status: "ready", store: store.dialect };
		throw new ApiError("unavailable", "the database does not answer");
	});
	crashRoutes(app, context);
	heartbeatRoutes(app, context);
	otlpLogRoutes(app, context);
	bucketRoutes(app, context);
	rateRoutes(app, context);
	alertRoutes(app, context);
	attributeRoutes(app, context);
	if (options.web !== undefined) webRoutes(app, options.web);
	return app;
}
