/**
 * The fleet service's storage: crashes, buckets, rollups, heartbeats and tokens, in SQLite or
 * PostgreSQL behind one interface.
 * @module
 */
export {
	ALERT_EVENTS,
	ALERT_FORMATS,
	type AlertEvent,
	type AlertFormat,
	type AlertRecord,
	type AlertRule,
	type AlertState,
	type AlertStore,
	type BucketAppearance,
	type BucketHourCount,
	type ClaimedAlert,
	type DeliveryOutcome,
	type NewAlert,
} from "./_alert-types.js";
export { StoreError } from "./_migrate.js";
export type { NextTail, StreamStore, StreamTail, TailWrite } from "./_stream-types.js";
export {
	type AttributeCounts,
	type BucketRecord,
	type BucketSignature,
	type BucketSummary,
	type BucketVersion,
	type CrashQuery,
	type CrashRecord,
	type CrashSummary,
	type DiagnosisSummary,
	type Heartbeat,
	type NewCrash,
	type RatePoint,
	REPORT_KINDS,
	type ReportFilter,
	type ReportKind,
	type ResignedCrash,
	type ServiceVersion,
	type Store,
	type StoredCrash,
	TOKEN_SCOPES,
	type TokenRecord,
	type TokenScope,
} from "./_types.js";

import type { Store } from "./_types.js";

/** Whether a `--db` value names a PostgreSQL database (a postgres:// URL) rather than a SQLite file. */
export const isPostgresUrl = (db: string): boolean => /^postgres(?:ql)?:\/\//.test(db);

/** Opens the store a `--db` value names: a postgres:// URL, or else a SQLite file path. */
export async function openStore(db: string): Promise<Store> {
	if (isPostgresUrl(db)) {
		const { openPostgresStore } = await import("./postgres/index.js");
		return openPostgresStore(db);
	}
	const { openSqliteStore } = await import("./sqlite/index.js");
	return openSqliteStore(db);
}
