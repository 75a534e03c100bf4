import { InputError, UsageError } from "./_io.js";

/** Where `gocrash fleet` finds the service when neither --server nor GOCRASH_SERVER says. */
export const DEFAULT_SERVER = "http://127.0.0.1:7480";

/** How long one request may take before the command gives up. */
const TIMEOUT_MS = 30_000;

/** One answer of the API: the URL asked, the body as it came, and the body read as JSON. */
export interface ApiAnswer {
	readonly url: string;
	readonly text: string;
	readonly json: unknown;
}

/** A client of the fleet service's read API: GET requests with a bearer token. */
export interface FleetApi {
	readonly server: string;
	get(
		path: string,
		query?: Readonly<Record<string, string | readonly string[] | undefined>>,
	): Promise<ApiAnswer>;
}

/** Connects to `server` with `token`; refuses a URL that is not http(s) and a missing token. */
export function connectFleetApi(server: string, token: string | undefined): FleetApi {
	let base: URL;
	try {
		base = new URL(server);
	} catch {
		throw new UsageError(`--server: '${server}' is not a URL (e.g. ${DEFAULT_SERVER})`);
	}
	if (base.protocol !== "http:" && base.protocol !== "https:")
		throw new UsageError(`--server: '${server}' is not an http:// or https:// URL`);
	if (token === undefined || token === "")
		throw new UsageError(
			"no token: pass --token or set GOCRASH_TOKEN (a read token: 'gocrash token create --scope read')",
		);
	// A service behind a proxy may live under a path: keep it, without its trailing slash.
	const root = `${base.origin}${base.pathname.replace(/\/+$/, "")}`;
	return {
		server: root,
		async get(path, query = {}) {
			const url = new URL(`${root}${path}`);
			for (const [name, value] of Object.entries(query)) {
				if (value === undefined) continue;
				for (const v of typeof value === "string" ? [value] : value)
					url.searchParams.append(name, v);
			}
			const shown = url.toString();
			let response: Response;
			try {
				response = await fetch(url, {
					headers: { authorization: `Bearer ${token}`, accept: "application/json" },
					signal: AbortSignal.timeout(TIMEOUT_MS),
				});
			} catch (error) {
				throw new InputError(describeFetchError(root, error));
			}
			const text = await response.text();
			const json = readJson(text);
			if (!response.ok) throw new InputError(`${shown}: ${describeRefusal(response, json, text)}`);
			if (json === undefined)
				throw new InputError(
					`${shown}: ${response.status} but the answer is not JSON: ${excerpt(text)}`,
				);
			return { url: shown, text, json };
		},
	};
}

function readJson(text: string): unknown {
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return undefined;
	}
}

/** An API error `{"error": {"code", "message"}}` as `401 unauthorized: message`; anything else by its status. */
function describeRefusal(response: Response, json: unknown, text: string): string {
	const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
	if (typeof error?.code === "string" && typeof error.message === "string")
		return `${response.status} ${error.code}: ${error.message}`;
	const status = `${response.status} ${response.statusText}`.trim();
	return text.trim() === "" ? status : `${status}: ${excerpt(text)}`;
}

const excerpt = (text: string): string => {
	const line = text.replace(/\s+/g, " ").trim();
	return line.length > 200 ? `${line.slice(0, 200)}…` : line;
};

/** Why a request got no answer: fetch wraps the system error (ECONNREFUSED, ENOTFOUND, …) as its cause. */
function describeFetchError(server: string, error: unknown): string {
	const e = error as { name?: string; cause?: { code?: unknown; message?: unknown } };
	if (e.name === "TimeoutError")
		return `no answer from ${server} in ${TIMEOUT_MS / 1000} s (is it the fleet service?)`;
	const code = typeof e.cause?.code === "string" ? e.cause.code : undefined;
	const reasons: Record<string, string> = {
		ECONNREFUSED: "connection refused",
		ENOTFOUND: "no such host",
		EAI_AGAIN: "the host name did not resolve",
		ECONNRESET: "connection reset",
		EHOSTUNREACH: "no route to host",
		ENETUNREACH: "network unreachable",
		ETIMEDOUT: "connection timed out",
	};
	const why =
		(code === undefined ? undefined : reasons[code]) ??
		(typeof e.cause?.message === "string" ? e.cause.message : String(error));
	return `the server is not reachable at ${server} (${why}): start 'gocrash serve' there, or pass --server URL or set GOCRASH_SERVER`;
}
