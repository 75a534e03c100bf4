// A worker thread that parses, diagnoses and signs reports, so that the thread that answers
// requests and writes to the database is never busy with it.
import { parentPort, workerData } from "node:worker_threads";
import type { Rule } from "../knowledge/index.js";
import { ApiError } from "./_errors.js";
import { prepareReport, type Report } from "./_ingest.js";

const { rules, maxCrashes } = workerData as { rules: Rule[]; maxCrashes: number };

parentPort?.on("message", (message: { id: number; report: Report }) => {
	try {
		const crashes = prepareReport(message.report, { rules, maxCrashes, now: Date.now });
		parentPort?.postMessage(
			{ id: message.id, crashes },
			crashes.map((c) => c.raw.buffer as ArrayBuffer),
		);
	} catch (error) {
		const api = error instanceof ApiError ? error : new ApiError("internal", "internal error");
		parentPort?.postMessage({ id: message.id, error: { code: api.code, message: api.message } });
	}
});
