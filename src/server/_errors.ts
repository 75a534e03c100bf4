/** The error codes of the API, each with the HTTP status it is sent with. */
export const ERROR_STATUS = {
	bad_request: 400,
	unauthorized: 401,
	forbidden: 403,
	not_found: 404,
	too_large: 413,
	unsupported_media_type: 415,
	no_crash: 422,
	rate_limited: 429,
	internal: 500,
	unavailable: 503,
} as const;

/** An API error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** A request the API refuses: sent as `{"error": {"code", "message"}}` with the code's status. */
export class ApiError extends Error {
	override readonly name = "ApiError";
	readonly code: ErrorCode;
	readonly headers: Readonly<Record<string, string>>;

	constructor(code: ErrorCode, message: string, headers: Readonly<Record<string, string>> = {}) {
		super(message);
		this.code = code;
		this.headers = headers;
	}

	get status(): number {
		return ERROR_STATUS[this.code];
	}
}

interface FrameworkError {
	readonly statusCode?: number;
	readonly code?: string;
	readonly message: string;
	readonly validation?: unknown;
}

/** Maps any error thrown while handling a request to the API error it is sent as. */
export function toApiError(error: unknown): ApiError {
	if (error instanceof ApiError) return error;
	const e = error as FrameworkError;
	// zlib's errors while the body is gunzipped (the Content-Encoding hook's stream).
	if (
		/incorrect header check|unexpected end of file|invalid (?:block type|distance|stored block)/i.test(
			String(e.message),
		)
	)
		return new ApiError("bad_request", `body is not valid gzip: ${e.message}`);
	if (e.validation !== undefined) return new ApiError("bad_request", e.message);
	switch (e.code) {
		case "FST_ERR_CTP_BODY_TOO_LARGE":
			return new ApiError("too_large", e.message);
		case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
		case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
			return new ApiError(
				e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" ? "unsupported_media_type" : "bad_request",
				e.message,
			);
		case "FST_ERR_CTP_EMPTY_JSON_BODY":
		case "FST_ERR_CTP_INVALID_JSON_BODY":
			return new ApiError("bad_request", e.message);
	}
	if (e instanceof SyntaxError)
		return new ApiError("bad_request", `body is not valid JSON: ${e.message}`);
	if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500)
		return new ApiError(
			e.statusCode === 413
				? "too_large"
				: e.statusCode === 415
					? "unsupported_media_type"
					: "bad_request",
			e.message,
		);
	return new ApiError("internal", "internal error");
}
