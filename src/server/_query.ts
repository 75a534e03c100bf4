import { REPORT_KINDS, type ReportFilter, type ReportKind } from "../store/index.js";
import { ApiError } from "./_errors.js";

const HOUR = 3_600_000;
/** The window a query looks at when it names none: the last seven days. */
export const DEFAULT_WINDOW = 7 * 24 * HOUR;

/** Query parameters every read endpoint knows; any other parameter is an attribute filter. */
export const QUERY_PARAMETERS: ReadonlySet<string> = new Set([
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
]);

/** Reads a time parameter: RFC 3339, or ms since the epoch. */
export function readTime(name: string, value: string | undefined, fallback: number): number {
	if (value === undefined || value === "") return fallback;
	const t = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
	if (!Number.isFinite(t) || !/^\d{1,15}$|^\d{4}-\d\d-\d\d/.test(value))
		throw new ApiError(
			"bad_request",
			`${name}: '${value.slice(0, 80)}' is not an RFC 3339 time or ms since the epoch`,
		);
	return t;
}

/** Reads `kind`: fatal (the default) or recovered. */
export function readKind(value: string | undefined): ReportKind {
	if (value === undefined || value === "") return "fatal";
	if (!(REPORT_KINDS as readonly string[]).includes(value))
		throw new ApiError(
			"bad_request",
			`kind: '${value.slice(0, 80)}' is not one of ${REPORT_KINDS.join(", ")}`,
		);
	return value as ReportKind;
}

/** Reads a positive integer parameter with a default and a maximum. */
export function readCount(
	name: string,
	value: string | undefined,
	fallback: number,
	max: number,
): number {
	if (value === undefined || value === "") return fallback;
	const n = Number(value);
	if (!/^\d{1,9}$/.test(value) || n < 1 || n > max)
		throw new ApiError(
			"bad_request",
			`${name}: '${value.slice(0, 80)}' is not a whole number from 1 to ${max}`,
		);
	return n;
}

/** The report filter of a read request: window rounded out to whole hours, service, kind, attributes. */
export function readFilter(
	query: Readonly<Record<string, string | string[] | undefined>>,
	now: number,
): ReportFilter {
	const one = (name: string): string | undefined => {
		const v = query[name];
		if (Array.isArray(v)) throw new ApiError("bad_request", `${name}: given more than once`);
		return v;
	};
	const to = readTime("to", one("to"), now);
	const from = readTime("from", one("from"), to - DEFAULT_WINDOW);
	if (from >= to) throw new ApiError("bad_request", "from: must be before to");
	const service = one("service");
	return {
		kind: readKind(one("kind")),
		from: Math.floor(from / HOUR) * HOUR,
		to: Math.ceil(to / HOUR) * HOUR,
		service: service === "" ? undefined : service,
		attributes: readAttributes(query),
	};
}

/** The attribute filters of a read request: every query parameter that is not one of the API's. */
export function readAttributes(
	query: Readonly<Record<string, string | string[] | undefined>>,
): [string, string][] {
	const attributes: [string, string][] = [];
	for (const [name, value] of Object.entries(query)) {
		if (QUERY_PARAMETERS.has(name) || value === undefined) continue;
		for (const v of Array.isArray(value) ? value : [value]) attributes.push([name, v]);
	}
	return attributes;
}

/** A page's cursor: the time and id of its last row. */
export function encodeCursor(time: number, id: string): string {
	return Buffer.from(`${time}.${id}`).toString("base64url");
}

/** Reads a cursor `encodeCursor` gave out. */
export function decodeCursor(cursor: string): { time: number; id: string } {
	const m = /^(\d{1,15})\.([0-9a-f]{1,64})$/.exec(
		Buffer.from(cursor.slice(0, 200), "base64url").toString(),
	);
	if (m === null) throw new ApiError("bad_request", "cursor: not a cursor this API gave out");
	return { time: Number(m[1]), id: m[2] as string };
}
