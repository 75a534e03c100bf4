// The state every data view shares, read from the URL: the time window, the service, and the
// attribute filters, given to the API as it names them (`?goarch=arm64` here is `goarch=arm64` there).
import type { Params } from "./_api.js";

const HOUR = 3_600_000;

/** The windows offered, newest data last: name → length. */
export const WINDOWS: readonly (readonly [string, number])[] = [
	["24h", 24 * HOUR],
	["7d", 7 * 24 * HOUR],
	["30d", 30 * 24 * HOUR],
	["90d", 90 * 24 * HOUR],
];

/** Query parameters that are not attribute filters: the API's own and the dashboard's. */
const RESERVED: ReadonlySet<string> = new Set([
	"from",
	"to",
	"service",
	"kind",
	"limit",
	"interval",
	"bucket",
	"buckets",
	"reference",
	"cursor",
	"host",
	"q",
	"window",
	"stack",
	"next",
	"reason",
]);

/** What a view shows: a window (named, or from and to), a service, attribute filters. */
export interface View {
	readonly from: number;
	readonly to: number;
	/** The named window (`7d`), or null for an explicit from/to. */
	readonly window: string | null;
	readonly service: string | undefined;
	readonly attributes: readonly (readonly [string, string])[];
	/** Problems with the URL, to show instead of guessing silently. */
	readonly problems: readonly string[];
}

function readTime(value: string | null): number | null {
	if (value === null || value === "") return null;
	const t = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
	return Number.isFinite(t) ? t : Number.NaN;
}

/** Reads the view from a URL's query; `now` ends a named window. */
export function readView(query: URLSearchParams, now: number, fallback = "7d"): View {
	const problems: string[] = [];
	const from = readTime(query.get("from"));
	const to = readTime(query.get("to"));
	let window: string | null = null;
	let span = 0;
	if (Number.isNaN(from) || Number.isNaN(to))
		problems.push("from, to: not a time (RFC 3339 or ms)");
	const end = to !== null && !Number.isNaN(to) ? to : now;
	if (from !== null && !Number.isNaN(from) && from < end) span = end - from;
	else {
		const asked = query.get("window") ?? fallback;
		const named = WINDOWS.find(([name]) => name === asked);
		if (named === undefined)
			problems.push(`window: '${asked.slice(0, 20)}' is not one of 24h, 7d, 30d, 90d`);
		window = named?.[0] ?? "7d";
		span = named?.[1] ?? 7 * 24 * HOUR;
	}
	const attributes: [string, string][] = [];
	for (const [name, value] of query) if (!RESERVED.has(name)) attributes.push([name, value]);
	const service = query.get("service") ?? undefined;
	return {
		from: end - span,
		to: end,
		window,
		service: service === "" ? undefined : service,
		attributes,
		problems,
	};
}

/** The view as the API's parameters: from, to, service and each attribute filter. */
export function viewParams(view: View): Record<string, string | string[]> {
	const params: Record<string, string | string[]> = {
		from: new Date(view.from).toISOString(),
		to: new Date(view.to).toISOString(),
	};
	if (view.service !== undefined) params.service = view.service;
	for (const [name, value] of view.attributes) {
		const old = params[name];
		params[name] = old === undefined ? value : [...(Array.isArray(old) ? old : [old]), value];
	}
	return params;
}

/** The interval a chart of the view counts by: hours up to 30 days, days beyond. */
export function viewInterval(view: View): "hour" | "day" {
	return view.to - view.from > 31 * 24 * HOUR ? "day" : "hour";
}

/** The parameters as a `Params` for a call that adds its own. */
export function withParams(view: View, more: Params): Params {
	return { ...viewParams(view), ...more };
}
