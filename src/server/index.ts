/**
 * The fleet service: the versioned JSON API that takes crash reports and heartbeats from many
 * hosts and answers with buckets, rates and correlations.
 * @module
 */

export { type AlertRuleFields, alertRuleJson, readAlertRule } from "./_alert-rule.js";
export { type AlertOptions, AlertRunner, DEFAULT_ALERT_OPTIONS, formatAlert } from "./_alerts.js";
export { createServer, DEFAULT_LIMITS, type ServerLimits, type ServerOptions } from "./_app.js";
export { hashToken, newToken } from "./_auth.js";
export { type IngestOptions, prepareReport, type Report } from "./_ingest.js";
export { DEFAULT_LOG_STREAM_OPTIONS, type LogStreamOptions } from "./_log-streams.js";
export { PreparePool } from "./_prepare-pool.js";
export { QUERY_PARAMETERS } from "./_query.js";
export { alertJson } from "./routes/alerts.js";
