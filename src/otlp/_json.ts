import type protobuf from "protobufjs";
import { OtlpError } from "./_error.js";

/** A message as plain data: field names as in the .proto, int64 as bigint, bytes as Uint8Array. */
export type Plain = { [field: string]: unknown };

const MAX_DEPTH = 64;
const INT = /^-?\d+$/;
const HEX = /^(?:[0-9a-f]{2})*$/i;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
// OTLP/JSON writes these as hex, where protobuf's JSON mapping has base64 (OTLP spec, "JSON
// Protobuf Encoding").
const HEX_FIELDS = new Set(["trace_id", "span_id"]);

const camel = (name: string): string =>
	name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function describe(v: unknown): string {
	if (v === null) return "null";
	if (Array.isArray(v)) return "an array";
	if (typeof v === "string") return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
	return typeof v === "object" ? "an object" : String(v);
}

/**
 * Reads a message from its protobuf JSON mapping as OTLP writes it (lowerCamelCase names, the
 * .proto names accepted too; int64 as strings or numbers; enums as numbers; trace and
 * span ids in hex), into the same plain data as a binary decode; unknown fields are ignored.
 */
export function readJsonMessage(type: protobuf.Type, value: unknown, path: string): Plain {
	return message(type, value, path, 0);
}

function message(type: protobuf.Type, value: unknown, path: string, depth: number): Plain {
	if (depth > MAX_DEPTH)
		throw new OtlpError(`${path}: nested more than ${MAX_DEPTH} messages deep`);
	if (typeof value !== "object" || value === null || Array.isArray(value))
		throw new OtlpError(`${path || "body"}: must be a JSON object, not ${describe(value)}`);
	const json = value as Record<string, unknown>;
	const out: Plain = {};
	for (const field of type.fieldsArray) {
		const name = camel(field.name);
		const v = json[name] ?? json[field.name];
		if (v === undefined || v === null) continue;
		const at = path === "" ? name : `${path}.${name}`;
		if (field.partOf !== null) {
			const set = field.partOf.fieldsArray.find(
				(f) => f !== field && (json[camel(f.name)] ?? json[f.name]) != null,
			);
			if (set !== undefined)
				throw new OtlpError(
					`${at}: only one of ${field.partOf.name} may be set, and so is ${camel(set.name)}`,
				);
		}
		if (field.repeated) {
			if (!Array.isArray(v)) throw new OtlpError(`${at}: must be an array, not ${describe(v)}`);
			out[field.name] = v.map((item, i) => scalar(field, item, `${at}[${i}]`, depth));
		} else out[field.name] = scalar(field, v, at, depth);
	}
	return out;
}

function scalar(field: protobuf.Field, v: unknown, at: string, depth: number): unknown {
	field.resolve();
	if (field.resolvedType !== null && "fieldsArray" in field.resolvedType)
		return message(field.resolvedType as protobuf.Type, v, at, depth + 1);
	switch (field.type) {
		case "string":
			if (typeof v !== "string") throw new OtlpError(`${at}: must be a string, not ${describe(v)}`);
			return v;
		case "bool":
			if (typeof v !== "boolean")
				throw new OtlpError(`${at}: must be true or false, not ${describe(v)}`);
			return v;
		case "double":
		case "float":
			if (typeof v === "number") return v;
			if (v === "NaN" || v === "Infinity" || v === "-Infinity") return Number(v);
			throw new OtlpError(`${at}: must be a number, not ${describe(v)}`);
		case "int64":
		case "fixed64":
		case "sfixed64":
		case "sint64":
		case "uint64":
			return integer(v, at, field.type === "uint64" || field.type === "fixed64" ? 64 : -64);
		case "int32":
		case "sint32":
		case "sfixed32":
			return Number(integer(v, at, -32));
		case "uint32":
		case "fixed32":
			return Number(integer(v, at, 32));
		case "bytes": {
			if (typeof v !== "string") throw new OtlpError(`${at}: must be a string, not ${describe(v)}`);
			const hex = HEX_FIELDS.has(field.name);
			if (hex ? !HEX.test(v) : !BASE64.test(v))
				throw new OtlpError(`${at}: must be ${hex ? "hex" : "base64"}, not ${describe(v)}`);
			return new Uint8Array(Buffer.from(v, hex ? "hex" : "base64"));
		}
	}
	throw new OtlpError(`${at}: fields of type ${field.type} are not read`);
}

/** An integer of `bits` bits (negative: signed), written as a JSON number or a decimal string. */
function integer(v: unknown, at: string, bits: number): bigint {
	const text =
		typeof v === "number" && Number.isInteger(v) ? String(v) : typeof v === "string" ? v : null;
	if (text === null || !INT.test(text))
		throw new OtlpError(
			`${at}: must be an integer (a number or a decimal string), not ${describe(v)}`,
		);
	const n = BigInt(text);
	const width = BigInt(Math.abs(bits));
	const [min, max] =
		bits < 0 ? [-(1n << (width - 1n)), (1n << (width - 1n)) - 1n] : [0n, (1n << width) - 1n];
	if (n < min || n > max)
		throw new OtlpError(`${at}: ${text} is out of range for ${bits < 0 ? "" : "u"}int${width}`);
	return n;
}
