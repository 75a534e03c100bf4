import type { OtlpEncoding } from "./_decode.js";
import { otlpType } from "./_schema.js";

const RESPONSE = otlpType("ExportLogsServiceResponse");
const STATUS = otlpType("Status");

/** Records the server did not take, and why. */
export interface Rejection {
	readonly rejected: number;
	readonly message: string;
}

/** The ExportLogsServiceResponse: `partialSuccess` only when records were rejected. */
export function encodeLogsResponse(
	encoding: OtlpEncoding,
	rejection: Rejection | null,
): Uint8Array | string {
	if (encoding === "json")
		return JSON.stringify(
			rejection === null
				? {}
				: {
						partialSuccess: {
							rejectedLogRecords: String(rejection.rejected),
							errorMessage: rejection.message,
						},
					},
		);
	const message =
		rejection === null
			? {}
			: {
					partial_success: {
						rejected_log_records: rejection.rejected,
						error_message: rejection.message,
					},
				};
	return RESPONSE.encode(RESPONSE.fromObject(message)).finish();
}

/** A google.rpc.Status, the body of every OTLP/HTTP error answer, with its gRPC code. */
export function encodeStatus(
	encoding: OtlpEncoding,
	code: number,
	message: string,
): Uint8Array | string {
	if (encoding === "json") return JSON.stringify({ code, message });
	return STATUS.encode(STATUS.fromObject({ code, message })).finish();
}
