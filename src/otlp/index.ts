/**
 * OTLP/HTTP logs: ExportLogsServiceRequest bodies (JSON or protobuf) read into log streams, the
 * crash reports cut out of each stream across requests, and the answers OTLP expects.
 * @module
 */
export { type CutCrash, type CutState, cutRecords, flushHeld } from "./_cut.js";
export {
	type Attribute,
	decodeLogsRequest,
	type OtlpEncoding,
	type OtlpLogRecord,
	type OtlpResourceLogs,
} from "./_decode.js";
export { encodeLogsResponse, encodeStatus, type Rejection } from "./_encode.js";
export { OtlpError } from "./_error.js";
export {
	type LogStream,
	logStreams,
	type StreamOrigin,
	type StreamRecord,
	type Untextual,
} from "./_streams.js";
