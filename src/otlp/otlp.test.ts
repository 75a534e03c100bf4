import { readFileSync } from "node:fs";
import { JsonLogsSerializer, ProtobufLogsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
	InMemoryLogRecordExporter,
	LoggerProvider,
	SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import { describe, expect, test } from "vitest";
import { parseCrashes } from "../traceback/index.js";
import {
	type CutCrash,
	type CutState,
	cutRecords,
	decodeLogsRequest,
	encodeLogsResponse,
	flushHeld,
	logStreams,
	OtlpError,
	type OtlpResourceLogs,
} from "./index.js";

const FIXTURES = new URL("../../test/fixtures/crashes/", import.meta.url);
const PANIC = readFileSync(new URL("go1.26.10-amd64/goroutine-panic.all.txt", FIXTURES), "utf8");
const T0 = Date.UTC(2026, 11, 4, 6);

/** Log records made by the OpenTelemetry SDK and encoded by its own OTLP serializers. */
async function sdkRequest(): Promise<{ json: Uint8Array; protobuf: Uint8Array }> {
	const exporter = new InMemoryLogRecordExporter();
	const provider = new LoggerProvider({
		resource: resourceFromAttributes({
			"host.name": "web-1",
			"service.name": "api",
			"service.version": "1.4.2",
			"process.pid": 4242,
			"host.arch": "arm64",
			region: "eu-west",
		}),
		processors: [new SimpleLogRecordProcessor({ exporter })],
	});
	const logger = provider.getLogger("stderr");
	logger.emit({
		body: "panic: boom",
		timestamp: new Date(T0),
		attributes: { "log.iostream": "stderr" },
	});
	logger.emit({ body: { log: "goroutine 1 [running]:" }, timestamp: new Date(T0 + 1) });
	logger.emit({ body: new TextEncoder().encode("main.main()"), timestamp: new Date(T0 + 2) });
	logger.emit({ body: ["not", "text"], timestamp: new Date(T0 + 3) });
	logger.emit({ body: 42, timestamp: new Date(T0 + 4) });
	await provider.forceFlush();
	const records = exporter.getFinishedLogRecords();
	await provider.shutdown();
	return {
		json: JsonLogsSerializer.serializeRequest(records) as Uint8Array,
		protobuf: ProtobufLogsSerializer.serializeRequest(records) as Uint8Array,
	};
}

describe("decodeLogsRequest", () => {
	test("reads what the OpenTelemetry SDK's serializers write, the same from JSON and protobuf", async () => {
		const { json, protobuf } = await sdkRequest();
		const fromJson = decodeLogsRequest(json, "json");
		expect(decodeLogsRequest(protobuf, "protobuf")).toEqual(fromJson);
		expect(fromJson).toHaveLength(1);
		const [resource] = fromJson as [OtlpResourceLogs];
		expect(resource.attributes).toEqual(
			expect.arrayContaining([
				["host.name", "web-1"],
				["process.pid", "4242"],
				["region", "eu-west"],
			]),
		);
		expect(resource.records.map((r) => [r.time, r.text])).toEqual([
			[T0, "panic: boom"],
			[T0 + 1, "goroutine 1 [running]:"],
			[T0 + 2, "main.main()"],
			[T0 + 3, null],
			[T0 + 4, "42"],
		]);
		expect(resource.records[0]?.attributes).toEqual([["log.iostream", "stderr"]]);
		expect(resource.records[3]?.where).toBe("resourceLogs[0].scopeLogs[0].logRecords[3]");
	});

	test("says what is wrong and where, in one line", () => {
		const bad = (body: string | Uint8Array, encoding: "json" | "protobuf" = "json") => {
			try {
				decodeLogsRequest(typeof body === "string" ? Buffer.from(body) : body, encoding);
			} catch (error) {
				expect(error).toBeInstanceOf(OtlpError);
				return (error as Error).message;
			}
			throw new Error("decoded");
		};
		expect(bad("{")).toMatch(/^body is not valid JSON: /);
		expect(bad("[]")).toBe("body: must be a JSON object, not an array");
		expect(bad('{"resourceLogs": {}}')).toBe("resourceLogs: must be an array, not an object");
		expect(
			bad('{"resourceLogs": [{"scopeLogs": [{"logRecords": [{}, {"timeUnixNano": "soon"}]}]}]}'),
		).toBe(
			'resourceLogs[0].scopeLogs[0].logRecords[1].timeUnixNano: must be an integer (a number or a decimal string), not "soon"',
		);
		expect(
			bad('{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "-1"}]}]}]}'),
		).toMatch(/timeUnixNano: -1 is out of range for uint64$/);
		expect(
			bad(
				'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "a", "intValue": 1}}]}]}]}',
			),
		).toMatch(/logRecords\[0\]\.body\.(stringValue|intValue): only one of value may be set/);
		expect(bad('{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "xyz"}]}]}]}')).toBe(
			'resourceLogs[0].scopeLogs[0].logRecords[0].traceId: must be hex, not "xyz"',
		);
		const deep = `{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": ${'{"arrayValue": {"values": ['.repeat(40)}${"]}}".repeat(40)}}]}]}]}`;
		expect(bad(deep)).toMatch(/nested more than 64 messages deep$/);
		expect(bad(new Uint8Array([0x0a, 0x10, 0x0a]), "protobuf")).toBe(
			"body is not a protobuf ExportLogsServiceRequest: a field runs past the end of the 3-byte body",
		);
		// A log record's timeUnixNano (fixed64) with 3 of its 8 bytes.
		expect(
			bad(new Uint8Array([0x0a, 0x08, 0x12, 0x06, 0x12, 0x04, 0x09, 0x01, 0x02, 0x03]), "protobuf"),
		).toBe(
			"body is not a protobuf ExportLogsServiceRequest: at byte 7 a field needs 8 more bytes, but the body ends at byte 10",
		);
		expect(bad(new Uint8Array([0x0f]), "protobuf")).toMatch(
			/^body is not a protobuf ExportLogsServiceRequest: invalid wire type 7 at offset 1$/,
		);
	});

	test("a record without a time has its observed time; int64 may be a JSON number", () => {
		const [resource] = decodeLogsRequest(
			Buffer.from(
				JSON.stringify({
					resourceLogs: [
						{
							scopeLogs: [
								{
									logRecords: [
										{
											timeUnixNano: "0",
											observedTimeUnixNano: `${T0}000000`,
											body: { stringValue: "a" },
										},
										{ timeUnixNano: T0 * 1e6 },
										{},
									],
								},
							],
						},
					],
				}),
			),
			"json",
		);
		expect(resource?.records.map((r) => [r.time, r.text])).toEqual([
			[T0, "a"],
			[T0, ""],
			[0, ""],
		]);
	});

	test("an empty request has no records, in either encoding", () => {
		expect(decodeLogsRequest(new Uint8Array(), "protobuf")).toEqual([]);
		expect(decodeLogsRequest(Buffer.from("{}"), "json")).toEqual([]);
	});

	test("answers partial success in both encodings", () => {
		expect(encodeLogsResponse("json", null)).toBe("{}");
		expect(encodeLogsResponse("json", { rejected: 2, message: "two" })).toBe(
			'{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"two"}}',
		);
		expect(
			ProtobufLogsSerializer.deserializeResponse(
				encodeLogsResponse("protobuf", { rejected: 2, message: "two" }) as Uint8Array,
			),
		).toEqual({ partialSuccess: { rejectedLogRecords: 2, errorMessage: "two" } });
	});
});

const resource = (
	attributes: [string, string][],
	records: [number, string | null, [string, string][]?][],
) => ({
	attributes,
	records: records.map(([time, text, attrs], i) => ({
		time,
		text,
		attributes: attrs ?? [],
		where: `r${i}`,
	})),
});

describe("logStreams", () => {
	test("one stream per identifying resource attributes and log file, each in time order", () => {
		const { streams, untextual } = logStreams([
			resource(
				[
					["service.name", "api"],
					["host.name", "web-1"],
					["service.version", "2.0"],
					["region", "eu"],
					["host.arch", "amd64"],
				],
				[
					[T0 + 2, "b"],
					[T0 + 1, "a"],
					[T0, "other file", [["log.file.path", "/var/log/x.log"]]],
					[T0 + 3, null],
				],
			),
			// The same source in another ResourceLogs, with an attribute that does not identify it.
			resource(
				[
					["host.name", "web-1"],
					["service.name", "api"],
					["deployment.environment", "prod"],
				],
				[[T0 + 1, "a2"]],
			),
		]);
		expect(streams.map((s) => [s.key, s.records.map((r) => r.text)])).toEqual([
			['[["service.name","api"],["host.name","web-1"]]', ["a", "a2", "b"]],
			[
				'[["service.name","api"],["host.name","web-1"],["log.file.path","/var/log/x.log"]]',
				["other file"],
			],
		]);
		expect(streams[0]?.origin).toEqual({
			host: "web-1",
			service: "api",
			version: "2.0",
			attributes: [
				["region", "eu"],
				["host.arch", "amd64"],
				["goarch", "amd64"],
			],
		});
		expect(untextual).toEqual({ count: 1, first: "r3" });
		const long = logStreams([resource([["service.name", "x".repeat(600)]], [[T0, "a"]])]);
		expect(long.streams[0]?.key).toMatch(/^sha256:[0-9a-f]{64}$/);
	});
});

describe("cutRecords", () => {
	const lines = PANIC.trimEnd().split("\n");
	const records = (from: number, texts: readonly string[]) =>
		texts.map((text, i) => ({ time: from + i, text }));

	test("a crash sent a line per record over many batches is cut out once, whole, with the time of its first line", () => {
		let state: CutState | null = null;
		const crashes: CutCrash[] = [];
		const stream = [...lines, "level=info msg=restarted", "level=info msg=serving"];
		for (let at = 0; at < stream.length; at += 3) {
			const cut = cutRecords(state, records(T0 + at, stream.slice(at, at + 3)), 1 << 20);
			crashes.push(...cut.crashes);
			state = cut.next;
		}
		expect(crashes).toHaveLength(1);
		const [crash] = crashes as [CutCrash];
		expect(crash.truncated).toBe(false);
		expect(crash.time).toBe(T0);
		expect(parseCrashes(crash.text).crashes.map((c) => c.goroutines.map((g) => g.id))).toEqual(
			parseCrashes(PANIC).crashes.map((c) => c.goroutines.map((g) => g.id)),
		);
		expect(state?.opened).toBeNull();
		expect(state?.last).toBe(T0 + stream.length - 1);
	});

	test("a record may hold many lines: a whole crash in one is cut out the same", () => {
		const cut = cutRecords(
			null,
			[
				{ time: T0, text: PANIC },
				{ time: T0 + 1, text: "level=info msg=restarted" },
			],
			1 << 20,
		);
		expect(cut.crashes.map((c) => [c.time, c.truncated])).toEqual([[T0, false]]);
		expect(cut.crashes[0]?.text).toBe(PANIC.trimEnd());
	});

	test("a batch sent again changes nothing", () => {
		const first = cutRecords(null, records(T0, lines.slice(0, 5)), 1 << 20);
		const again = cutRecords(first.next, records(T0, lines.slice(0, 5)), 1 << 20);
		expect(again).toEqual({ crashes: [], next: first.next, repeated: true });
		expect(first.next.opened).toBe(T0);
	});

	test("a crash that stops mid-way is cut out truncated when its stream goes quiet", () => {
		const open = cutRecords(
			null,
			records(T0, ["level=info msg=up", ...lines.slice(0, 8)]),
			1 << 20,
		);
		expect(open.crashes).toEqual([]);
		expect(open.next.opened).toBe(T0 + 1);
		const [crash, ...rest] = flushHeld(open.next, 1 << 20);
		expect(rest).toEqual([]);
		expect(crash?.truncated).toBe(true);
		expect(crash?.time).toBe(T0 + 1);
		expect(crash?.text).toContain("panic: worker 3: queue closed");
		expect(
			flushHeld(cutRecords(null, records(T0, ["just a line"]), 1 << 20).next, 1 << 20),
		).toEqual([]);
	});
});
