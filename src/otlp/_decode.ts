import { OtlpError } from "./_error.js";
import { type Plain, readJsonMessage } from "./_json.js";
import { otlpType } from "./_schema.js";

/** How an OTLP/HTTP body is encoded: `application/json` or `application/x-protobuf`. */
export type OtlpEncoding = "json" | "protobuf";

/** An attribute with its value written as text. */
export type Attribute = readonly [string, string];

/** One log record as gocrash reads it. */
export interface OtlpLogRecord {
	/** `timeUnixNano`, else `observedTimeUnixNano`, in ms since the epoch; 0 when neither is set. */
	readonly time: number;
	/** The line(s) the body holds; null when it holds no text (an array, a map without a message). */
	readonly text: string | null;
	readonly attributes: readonly Attribute[];
	/** Where it is in the request, e.g. `resourceLogs[0].scopeLogs[1].logRecords[7]`. */
	readonly where: string;
}

/** The log records of one resource, in the order of the request. */
export interface OtlpResourceLogs {
	readonly attributes: readonly Attribute[];
	readonly records: readonly OtlpLogRecord[];
}

const REQUEST = otlpType("ExportLogsServiceRequest");
// Keys of a map body that hold the line, as log shippers write them (Fluent Bit: `log`).
const TEXT_KEYS = ["log", "message", "msg"];

/** Decodes an ExportLogsServiceRequest; throws an {@link OtlpError} naming what is wrong, where. */
export function decodeLogsRequest(body: Uint8Array, encoding: OtlpEncoding): OtlpResourceLogs[] {
	let plain: Plain;
	if (encoding === "json") {
		let json: unknown;
		try {
			json = JSON.parse(
				Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"),
			);
		} catch (error) {
			throw new OtlpError(`body is not valid JSON: ${(error as Error).message}`);
		}
		plain = readJsonMessage(REQUEST, json, "");
	} else {
		try {
			plain = REQUEST.toObject(REQUEST.decode(body), { longs: BigInt, bytes: Uint8Array });
		} catch (error) {
			throw new OtlpError(
				`body is not a protobuf ExportLogsServiceRequest: ${explain((error as Error).message, body.length)}`,
			);
		}
	}
	return list(plain.resource_logs).map((resourceLogs, r) => {
		const records: OtlpLogRecord[] = [];
		list(resourceLogs.scope_logs).forEach((scopeLogs, s) => {
			list(scopeLogs.log_records).forEach((record, i) => {
				const time = (record.time_unix_nano as bigint | undefined) ?? 0n;
				const observed = (record.observed_time_unix_nano as bigint | undefined) ?? 0n;
				records.push({
					time: Number((time === 0n ? observed : time) / 1_000_000n),
					text: bodyText(record.body as Plain | undefined),
					attributes: attributes(record.attributes),
					where: `resourceLogs[${r}].scopeLogs[${s}].logRecords[${i}]`,
				});
			});
		});
		return {
			attributes: attributes((resourceLogs.resource as Plain | undefined)?.attributes),
			records,
		};
	});
}

const list = (v: unknown): Plain[] => (v ?? []) as Plain[];

function attributes(v: unknown): Attribute[] {
	return list(v).map((kv) => [
		(kv.key as string | undefined) ?? "",
		valueText(kv.value as Plain | undefined),
	]);
}

/** An attribute value as text: scalars as written, bytes in base64, arrays and maps as JSON. */
function valueText(v: Plain | undefined): string {
	const json = anyJson(v);
	return typeof json === "string" ? json : JSON.stringify(json);
}

function anyJson(v: Plain | undefined): unknown {
	if (v === undefined) return "";
	if (v.string_value !== undefined) return v.string_value;
	if (v.bool_value !== undefined) return String(v.bool_value);
	if (v.int_value !== undefined) return String(v.int_value);
	if (v.double_value !== undefined) return String(v.double_value);
	if (v.bytes_value !== undefined)
		return Buffer.from(v.bytes_value as Uint8Array).toString("base64");
	if (v.array_value !== undefined)
		return list((v.array_value as Plain).values).map((item) => anyJson(item));
	if (v.kvlist_value !== undefined)
		return Object.fromEntries(
			list((v.kvlist_value as Plain).values).map((kv) => [
				kv.key ?? "",
				anyJson(kv.value as Plain | undefined),
			]),
		);
	return "";
}

/** A body's text: a string, bytes as UTF-8, a scalar as written, a map's log line; else null. */
function bodyText(v: Plain | undefined): string | null {
	if (v === undefined) return "";
	if (v.bytes_value !== undefined) return Buffer.from(v.bytes_value as Uint8Array).toString("utf8");
	if (v.array_value !== undefined) return null;
	if (v.kvlist_value !== undefined) {
		const values = list((v.kvlist_value as Plain).values);
		for (const key of TEXT_KEYS) {
			const text = (values.find((kv) => kv.key === key)?.value as Plain | undefined)?.string_value;
			if (typeof text === "string") return text;
		}
		return null;
	}
	return anyJson(v) as string;
}

/** protobufjs's "index out of range: 12 + 10 > 15" said in words. */
function explain(message: string, size: number): string {
	if (message === "index out of range") return `a field runs past the end of the ${size}-byte body`;
	const m = /^index out of range: (\d+) \+ (\d+) > (\d+)$/.exec(message);
	if (m === null) return message;
	return `at byte ${m[1]} a field needs ${m[2]} more bytes, but the body ends at byte ${m[3]}`;
}
