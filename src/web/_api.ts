// The dashboard's only way to the data: the fleet service's public JSON API, with a read token.

const TOKEN_KEY = "gocrash.token";

/** An API answer that was not a success: its status, the API's error code and message. */
export class ApiError extends Error {
	readonly status: number;
	readonly code: string;

	constructor(status: number, code: string, message: string) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

/** The read token this browser logged in with, or null. */
export function readToken(): string | null {
	return localStorage.getItem(TOKEN_KEY);
}

/** Keeps the token for later visits. */
export function saveToken(token: string): void {
	localStorage.setItem(TOKEN_KEY, token);
}

/** Forgets the token (log out, or the server refused it). */
export function forgetToken(): void {
	localStorage.removeItem(TOKEN_KEY);
}

/** Query parameters: a value per name, several for a repeated name; undefined and "" are left out. */
export type Params = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Builds `path?query` from parameters. */
export function withQuery(path: string, params: Params): string {
	const search = new URLSearchParams();
	for (const [name, value] of Object.entries(params))
		for (const v of typeof value === "string" ? [value] : (value ?? []))
			if (v !== "") search.append(name, v);
	const query = search.toString();
	return query === "" ? path : `${path}?${query}`;
}

/** GETs an API path with the token; resolves to its JSON, or rejects with an {@link ApiError}. */
export async function getJson<T>(
	path: string,
	params: Params = {},
	token = readToken(),
	signal?: AbortSignal,
): Promise<T> {
	if (token === null) throw new ApiError(401, "unauthorized", "log in with a read token");
	let response: Response;
	try {
		response = await fetch(withQuery(`/api/v1${path}`, params), {
			headers: { authorization: `Bearer ${token}`, accept: "application/json" },
			...(signal === undefined ? {} : { signal }),
		});
	} catch (error) {
		if ((error as Error).name === "AbortError") throw error;
		throw new ApiError(0, "network", `the server does not answer: ${(error as Error).message}`);
	}
	const body = (await response.json().catch((error: unknown) => {
		if ((error as Error).name === "AbortError") throw error;
		return null;
	})) as {
		error?: { code?: string; message?: string };
	} | null;
	if (!response.ok)
		throw new ApiError(
			response.status,
			body?.error?.code ?? "http",
			body?.error?.message ?? `the server answered ${response.status}`,
		);
	if (body === null)
		throw new ApiError(response.status, "bad_answer", "the server's answer is not JSON");
	return body as T;
}
