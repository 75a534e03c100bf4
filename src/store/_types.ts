import type { Signature } from "../fleet/index.js";
import type { AlertStore } from "./_alert-types.js";
import type { StreamStore } from "./_stream-types.js";

/** The kinds of report the service counts as separate streams. */
export const REPORT_KINDS = ["fatal", "recovered"] as const;
/** A crash that ended the process, or a panic the program recovered from. */
export type ReportKind = (typeof REPORT_KINDS)[number];

/**
 * The scopes a token can have: ingest tokens only write reports, read tokens only read, admin
 * tokens manage alert rules.
 */
export const TOKEN_SCOPES = ["ingest", "read", "admin"] as const;
/** What a token may do. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** A stored token: only the hash of its secret is kept. */
export interface TokenRecord {
	readonly id: string;
	readonly name: string;
	readonly scope: TokenScope;
	readonly hash: string;
	readonly created: number;
}

/** The bucket a crash was signed into: its key and why its crashes belong together. */
export type BucketSignature = Signature;

/** The most certain finding of a crash's diagnosis. */
export interface DiagnosisSummary {
	readonly id: string;
	readonly confidence: string;
}

/** One crash ready to be stored: parsed, signed and diagnosed by the caller. */
export interface NewCrash {
	readonly id: string;
	readonly kind: ReportKind;
	/** When it crashed, ms since the epoch. */
	readonly time: number;
	readonly received: number;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	/** Sender's and extracted attributes, multi-valued names repeated, no duplicate pairs. */
	readonly attributes: readonly (readonly [string, string])[];
	readonly signature: BucketSignature;
	readonly message: string | null;
	readonly diagnosis: DiagnosisSummary | null;
	/** How sure the diagnosis is, higher surer: a bucket keeps its surest crash's diagnosis. */
	readonly diagnosisRank: number;
	/** The diagnosis findings, as JSON. */
	readonly findings: string;
	/** The crash's own text, gzip-compressed. */
	readonly raw: Uint8Array;
	readonly rawSize: number;
	/** Lower-cased text searched by `q`: the message and the function names. */
	readonly search: string;
	/** A retry of the same report with the same key is not stored twice. */
	readonly idempotencyKey: string | null;
}

/** A stored crash signed again from its text (`gocrash rebucket`): its bucket, diagnosis, attributes. */
export type ResignedCrash = Pick<
	NewCrash,
	| "id"
	| "attributes"
	| "signature"
	| "message"
	| "diagnosis"
	| "diagnosisRank"
	| "findings"
	| "search"
>;

/** What the store says about a crash it was given: its id and bucket, and whether it was new. */
export interface StoredCrash {
	readonly id: string;
	readonly bucket: string;
	readonly duplicate: boolean;
}

/** One host's report that it is alive. */
export interface Heartbeat {
	readonly host: string;
	readonly time: number;
	readonly service: string;
	readonly version: string;
	readonly attributes: readonly (readonly [string, string])[];
}

/** Which reports a query looks at. `to` is exclusive. */
export interface ReportFilter {
	readonly kind: ReportKind;
	readonly from: number;
	readonly to: number;
	readonly service?: string | undefined;
	/** Every pair must be present (attribute name, value). */
	readonly attributes: readonly (readonly [string, string])[];
}

/** A bucket as the list shows it, counted over a filter. */
export interface BucketSummary {
	readonly id: string;
	readonly title: string;
	readonly count: number;
	readonly hosts: number;
	/** First and last crash of the bucket ever, ms since the epoch. */
	readonly firstSeen: number;
	readonly lastSeen: number;
	readonly diagnosis: DiagnosisSummary | null;
}

/** A bucket with its signature, diagnosis and the service versions it was seen in. */
export interface BucketRecord extends BucketSummary {
	readonly signature: BucketSignature;
	/** The findings of the crash that gave the bucket its diagnosis, as JSON. */
	readonly findings: string;
	readonly versions: readonly BucketVersion[];
}

/** Where a bucket was seen: one service version, with its first and last crash. */
export interface BucketVersion {
	readonly service: string;
	readonly version: string;
	readonly firstSeen: number;
	readonly lastSeen: number;
	readonly count: number;
}

/** When a service first reported a version, from crashes and heartbeats. */
export interface ServiceVersion {
	readonly service: string;
	readonly version: string;
	readonly firstSeen: number;
	/** Host-hours the heartbeats reported it running (0 without heartbeats). */
	readonly hostHours: number;
}

/** Counts of attribute values over a set of reports (or host-hours) and the set's size. */
export interface AttributeCounts {
	readonly total: number;
	readonly counts: readonly {
		readonly attribute: string;
		readonly value: string;
		readonly count: number;
	}[];
}

/** A count in one interval and the host-hours of heartbeats in it. */
export interface RatePoint {
	readonly t: number;
	readonly count: number;
	readonly hostHours: number;
}

/** A crash as the list shows it. */
export interface CrashSummary {
	readonly id: string;
	readonly kind: ReportKind;
	readonly time: number;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly bucket: string;
	readonly message: string | null;
	readonly diagnosis: DiagnosisSummary | null;
}

/** A stored crash in full. */
export interface CrashRecord extends CrashSummary {
	readonly received: number;
	readonly attributes: readonly (readonly [string, string])[];
	readonly findings: string;
	/** Its text, gzip-compressed; null once retention removed it. */
	readonly raw: Uint8Array | null;
	readonly rawSize: number;
}

/** Which crashes a list shows; `cursor` is the last crash of the previous page. */
export interface CrashQuery {
	readonly bucket?: string | undefined;
	readonly host?: string | undefined;
	readonly q?: string | undefined;
	readonly kind?: ReportKind | undefined;
	/** Times from `from` (inclusive) to `to` (exclusive), ms since the epoch. */
	readonly from?: number | undefined;
	readonly to?: number | undefined;
	readonly service?: string | undefined;
	/** Every pair must be present (attribute name, value). */
	readonly attributes?: readonly (readonly [string, string])[] | undefined;
	readonly cursor?: { readonly time: number; readonly id: string } | undefined;
	readonly limit: number;
}

/** The fleet service's storage: one interface, a SQLite and a PostgreSQL implementation. */
export interface Store {
	/** `sqlite` or `postgres`. */
	readonly dialect: string;
	readonly alerts: AlertStore;
	/** The unfinished ends of log streams (OTLP logs), each written with the crashes cut from it. */
	readonly streams: StreamStore;
	/** Stores the crashes in one transaction, with every rollup; resolves once committed. */
	insertCrashes(crashes: readonly NewCrash[]): Promise<StoredCrash[]>;
	/** Stores heartbeats: one host-hour each per host and hour, however many arrive. */
	insertHeartbeats(heartbeats: readonly Heartbeat[]): Promise<void>;
	createToken(token: TokenRecord): Promise<void>;
	findToken(hash: string): Promise<TokenRecord | null>;
	/** Buckets with reports in the filter, most reports first, at most `limit`. */
	listBuckets(filter: ReportFilter, limit: number): Promise<BucketSummary[]>;
	/** The ids of the buckets `listBuckets` would list, in its order, without counting their hosts. */
	rankBuckets(filter: ReportFilter, limit: number): Promise<string[]>;
	getBucket(id: string, kind: ReportKind): Promise<BucketRecord | null>;
	/** The service versions each bucket was seen in. */
	bucketVersions(ids: readonly string[], kind: ReportKind): Promise<Map<string, BucketVersion[]>>;
	serviceVersions(service: string | undefined): Promise<ServiceVersion[]>;
	/** Attribute values of the bucket's reports (bucket given) or of all reports, in the filter. */
	reportAttributes(bucket: string | undefined, filter: ReportFilter): Promise<AttributeCounts>;
	/** Attribute values of the fleet's host-hours in the filter's time range. */
	fleetAttributes(filter: ReportFilter): Promise<AttributeCounts>;
	/** Reports per interval (`step` ms, aligned to the epoch) with the host-hours in it. */
	rates(bucket: string | undefined, filter: ReportFilter, step: number): Promise<RatePoint[]>;
	/** Reports per interval of each bucket given (an entry each, intervals without any left out). */
	bucketRates(
		buckets: readonly string[],
		filter: ReportFilter,
		step: number,
	): Promise<Map<string, { t: number; count: number }[]>>;
	getCrash(id: string): Promise<CrashRecord | null>;
	/** Crashes newest first. */
	listCrashes(query: CrashQuery): Promise<CrashSummary[]>;
	/** Every stored crash in id order, `limit` at a time: the ones after the id `after`. */
	scanCrashes(after: string | null, limit: number): Promise<CrashRecord[]>;
	/**
	 * Gives stored crashes a new bucket, diagnosis and attributes, in one transaction: their counts
	 * move in every rollup, and a bucket left with no crashes is deleted. Crashes no longer stored
	 * are skipped; returns how many were changed.
	 */
	resignCrashes(crashes: readonly ResignedCrash[]): Promise<number>;
	/**
	 * Deletes the crashes received before `before` (texts, details, attributes) and the per-host
	 * heartbeat hours before it; buckets and every rollup keep counting them. Returns how many.
	 */
	expire(before: number): Promise<{ crashes: number; hostHours: number }>;
	/** Whether the database answers. */
	ping(): Promise<boolean>;
	close(): Promise<void>;
}
