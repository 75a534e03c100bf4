/** An OTLP request that cannot be read: the message says what is wrong and where. */
export class OtlpError extends Error {
	override readonly name = "OtlpError";
}
