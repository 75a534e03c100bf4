import type { FastifyInstance, FastifyRequest } from "fastify";
import {
	decodeLogsRequest,
	encodeLogsResponse,
	encodeStatus,
	logStreams,
	type OtlpEncoding,
	OtlpError,
} from "../../otlp/index.js";
import type { ServerContext } from "../_app.js";
import { ApiError, type ErrorCode, toApiError } from "../_errors.js";

const CONTENT_TYPES: Readonly<Record<OtlpEncoding, string>> = {
	json: "application/json",
	protobuf: "application/x-protobuf",
};

// The gRPC status code of google.rpc.Status that OTLP/HTTP errors carry, for each API error.
const GRPC_CODES: Readonly<Record<ErrorCode, number>> = {
	bad_request: 3,
	no_crash: 3,
	unsupported_media_type: 3,
	not_found: 5,
	forbidden: 7,
	too_large: 8,
	rate_limited: 8,
	internal: 13,
	unavailable: 14,
	unauthorized: 16,
};

const encodingOf = (request: FastifyRequest): OtlpEncoding =>
	/^application\/x-protobuf\b/i.test(request.headers["content-type"] ?? "") ? "protobuf" : "json";

/**
 * `POST /v1/logs`: OTLP/HTTP logs, JSON or protobuf. Each log stream's records are cut into
 * crashes with what the stream held from earlier requests; each crash is stored as
 * `POST /api/v1/crashes` stores it. Errors are google.rpc.Status bodies, as OTLP/HTTP says.
 */
export function otlpLogRoutes(app: FastifyInstance, ctx: ServerContext): void {
	void app.register(async (scope) => {
		scope.removeAllContentTypeParsers();
		scope.addContentTypeParser(
			Object.values(CONTENT_TYPES),
			{ parseAs: "buffer" },
			(_request, body, done) => done(null, body),
		);
		scope.post(
			"/v1/logs",
			{
				config: { scope: "ingest" },
				errorHandler: (error, request, reply) => {
					const api =
						error instanceof OtlpError
							? new ApiError("bad_request", error.message)
							: (error as { code?: string }).code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
								? new ApiError(
										"unsupported_media_type",
										`Content-Type '${(request.headers["content-type"] ?? "").slice(0, 60)}' is not OTLP/HTTP: send application/json or application/x-protobuf`,
									)
								: toApiError(error);
					if (api.code === "internal") request.log.error({ err: error }, "internal error");
					const encoding = encodingOf(request);
					void reply
						.status(api.status)
						.headers(api.headers)
						.type(CONTENT_TYPES[encoding])
						.send(encodeStatus(encoding, GRPC_CODES[api.code], api.message));
				},
			},
			async (request, reply) => {
				const encoding = encodingOf(request);
				const { streams, untextual } = logStreams(
					decodeLogsRequest(request.body as Buffer, encoding),
				);
				await ctx.logStreams.write(streams);
				return reply
					.status(200)
					.type(CONTENT_TYPES[encoding])
					.send(
						encodeLogsResponse(
							encoding,
							untextual.count === 0
								? null
								: {
										rejected: untextual.count,
										message: `${untextual.count} log record${untextual.count === 1 ? " holds" : "s hold"} no text (a body that is an array, or a map without a log, message or msg string), the first at ${untextual.first}`,
									},
						),
					);
			},
		);
	});
}
