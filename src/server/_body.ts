import type { ReportKind } from "../store/index.js";
import type { ServerLimits } from "./_app.js";
import { ApiError } from "./_errors.js";
import { readKind } from "./_query.js";

type Json = Readonly<Record<string, unknown>>;

/** Whether a parsed JSON body is an object (not an array, string or null). */
export function isObject(value: unknown): value is Json {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads an optional string field, at most `max` characters. */
export function readString(
	body: Json,
	name: string,
	max: number,
	where: string,
): string | undefined {
	const v = body[name];
	if (v === undefined || v === null) return undefined;
	if (typeof v !== "string")
		throw new ApiError("bad_request", `${where}${name}: must be a string, not ${describe(v)}`);
	if (v.length > max)
		throw new ApiError(
			"bad_request",
			`${where}${name}: longer than ${max} characters (${v.length})`,
		);
	return v;
}

/** Reads an RFC 3339 time field; absent: now. */
export function readBodyTime(body: Json, where: string, now: number): number {
	const v = readString(body, "time", 64, where);
	if (v === undefined) return now;
	const t = Date.parse(v);
	if (
		!/^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:\d\d)$/i.test(v) ||
		!Number.isFinite(t)
	)
		throw new ApiError(
			"bad_request",
			`${where}time: '${v}' is not an RFC 3339 time such as 2026-12-03T07:00:00Z`,
		);
	return t;
}

/** Reads the `attributes` object: string values only, within the limits. */
export function readAttributes(
	body: Json,
	limits: ServerLimits,
	where: string,
): [string, string][] {
	const v = body.attributes;
	if (v === undefined || v === null) return [];
	if (!isObject(v))
		throw new ApiError(
			"bad_request",
			`${where}attributes: must be an object of strings, not ${describe(v)}`,
		);
	const entries = Object.entries(v);
	if (entries.length > limits.maxAttributes)
		throw new ApiError(
			"bad_request",
			`${where}attributes: ${entries.length} attributes; at most ${limits.maxAttributes}`,
		);
	return entries.map(([name, value]) => {
		if (!isAttributeName(name, limits))
			throw new ApiError(
				"bad_request",
				`${where}attributes: name '${name.slice(0, 40)}' must be 1 to ${limits.maxAttributeName} characters without control characters`,
			);
		if (typeof value !== "string")
			throw new ApiError(
				"bad_request",
				`${where}attributes.${name}: must be a string, not ${describe(value)}`,
			);
		if (value.length > limits.maxAttributeValue)
			throw new ApiError(
				"bad_request",
				`${where}attributes.${name}: longer than ${limits.maxAttributeValue} characters`,
			);
		return [name, value];
	});
}

/** Whether `name` may name an attribute: 1 to maxAttributeName characters, none a control character. */
export function isAttributeName(name: string, limits: ServerLimits): boolean {
	return name !== "" && name.length <= limits.maxAttributeName && !hasControlCharacter(name);
}

/** The fields every report and heartbeat has. */
export interface Origin {
	readonly time: number;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly attributes: [string, string][];
}

/** Reads host, time, service, version and attributes. */
export function readOrigin(body: Json, limits: ServerLimits, where: string, now: number): Origin {
	return {
		time: readBodyTime(body, where, now),
		host: readString(body, "host", 256, where) ?? "",
		service: readString(body, "service", 256, where) ?? "",
		version: readString(body, "version", 256, where) ?? "",
		attributes: readAttributes(body, limits, where),
	};
}

/** Reads `kind` from a body. */
export function readBodyKind(body: Json, where: string): ReportKind {
	const v = readString(body, "kind", 32, where);
	try {
		return readKind(v);
	} catch (error) {
		throw new ApiError("bad_request", `${where}${(error as Error).message}`);
	}
}

/** Whether the text has a control character (below U+0020, or DEL). */
export function hasControlCharacter(text: string): boolean {
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c < 0x20 || c === 0x7f) return true;
	}
	return false;
}

function describe(v: unknown): string {
	return v === null ? "null" : Array.isArray(v) ? "an array" : `a ${typeof v}`;
}
