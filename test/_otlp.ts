import { resourceFromAttributes } from "@opentelemetry/resources";
import {
	InMemoryLogRecordExporter,
	LoggerProvider,
	type LogRecordExporter,
	type ReadableLogRecord,
	SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";

// Log records as the OpenTelemetry SDK makes them, and sent with its exporters, for the tests
// that ship crashes as OTLP logs.

/** Log records, one per line, made by the SDK for a resource, a millisecond apart from `t0`. */
export async function records(
	resource: Record<string, string | number>,
	lines: readonly string[],
	t0: number,
): Promise<ReadableLogRecord[]> {
	const memory = new InMemoryLogRecordExporter();
	const provider = new LoggerProvider({
		resource: resourceFromAttributes(resource),
		processors: [new SimpleLogRecordProcessor({ exporter: memory })],
	});
	const logger = provider.getLogger("stderr");
	lines.forEach((body, i) => {
		logger.emit({ body, timestamp: new Date(t0 + i), attributes: { "log.iostream": "stderr" } });
	});
	await provider.forceFlush();
	const out = [...memory.getFinishedLogRecords()];
	await provider.shutdown();
	return out;
}

export const exported = (exporter: LogRecordExporter, batch: ReadableLogRecord[]) =>
	new Promise<void>((done, fail) =>
		exporter.export(batch, (result) =>
			result.code === 0 ? done() : fail(result.error ?? new Error("export failed")),
		),
	);

export function batches<T>(items: readonly T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}
