import { useEffect, useState } from "preact/hooks";
import { ApiError, forgetToken, getJson, type Params, withQuery } from "./_api.js";
import { navigate } from "./_router.js";

/** An API answer as a view sees it while it arrives. */
export type Loaded<T> =
	| { readonly state: "loading" }
	| { readonly state: "error"; readonly error: ApiError }
	| { readonly state: "ok"; readonly data: T };

/** Sends the user to the login page, to come back here; the token the server refused is forgotten. */
export function toLogin(reason?: string): void {
	forgetToken();
	const back = location.pathname + location.search;
	navigate(withQuery("/login", { next: back === "/login" ? undefined : back, reason }), true);
}

/** GETs an API path whenever it or its parameters change; null: nothing to load (yet). */
export function useApi<T>(path: string | null, params: Params = {}): Loaded<T> {
	const all = useApiAll<T>(path === null ? [] : [{ path, params }]);
	if (all.state !== "ok") return all;
	const [data] = all.data;
	return path === null || data === undefined ? { state: "loading" } : { state: "ok", data };
}

/** GETs several API paths at once; loaded when all are. */
export function useApiAll<T>(requests: readonly { path: string; params: Params }[]): Loaded<T[]> {
	const key = requests.map((r) => withQuery(r.path, r.params)).join("\n");
	const [loaded, setLoaded] = useState<Loaded<T[]>>({ state: "loading" });
	useEffect(() => {
		const abort = new AbortController();
		setLoaded({ state: "loading" });
		Promise.all(requests.map((r) => getJson<T>(r.path, r.params, undefined, abort.signal))).then(
			(data) => {
				if (!abort.signal.aborted) setLoaded({ state: "ok", data });
			},
			(error: unknown) => {
				if (abort.signal.aborted) return;
				if (error instanceof ApiError && error.status === 401) toLogin(error.message);
				else
					setLoaded({
						state: "error",
						error: error instanceof ApiError ? error : new ApiError(0, "internal", String(error)),
					});
			},
		);
		return () => abort.abort();
	}, [key]);
	return loaded;
}
