import type { BucketVersion } from "./_types.js";

/** What an alert rule watches for: a new bucket, a regression, or a rate over a threshold. */
export const ALERT_EVENTS = ["new", "regressed", "rate"] as const;
/** One of the events an alert rule can watch for. */
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/** How an alert's webhook body is written: gocrash's own JSON, or a Slack incoming webhook's. */
export const ALERT_FORMATS = ["json", "slack"] as const;
/** One of the webhook body formats. */
export type AlertFormat = (typeof ALERT_FORMATS)[number];

/** Where an alert's delivery stands. */
export type AlertState = "pending" | "sent" | "failed" | "cancelled";

/** When to send an alert, for which service, and where. */
export interface AlertRule {
	readonly id: string;
	readonly name: string;
	/** Null: every service. */
	readonly service: string | null;
	readonly event: AlertEvent;
	/** For `rate`: fatal crashes per host-hour above which a bucket alerts. */
	readonly threshold: number | null;
	/** For `rate`: the fewest crashes in the hour for the rate to count. */
	readonly minCount: number;
	readonly url: string;
	readonly format: AlertFormat;
	readonly created: number;
}

/** An alert a rule raised, before its delivery. */
export interface NewAlert {
	readonly id: string;
	readonly rule: string;
	/** What the alert is about, unique per rule: an alert with a key already stored is not stored again. */
	readonly key: string;
	readonly event: AlertEvent;
	readonly service: string | null;
	readonly bucket: string;
	readonly created: number;
	/** What the webhook says, as JSON. */
	readonly details: string;
}

/** An alert with the state of its delivery. */
export interface AlertRecord extends NewAlert {
	readonly state: AlertState;
	readonly attempts: number;
	readonly nextAttempt: number;
	readonly lastStatus: number | null;
	readonly lastError: string | null;
	readonly sentAt: number | null;
}

/** An alert that one process holds the lease to deliver, with where and how. */
export interface ClaimedAlert extends AlertRecord {
	readonly url: string;
	readonly format: AlertFormat;
}

/** How one delivery attempt ended; `retryAt` null on failure: no more attempts. */
export type DeliveryOutcome =
	| { readonly ok: true; readonly status: number; readonly at: number }
	| {
			readonly ok: false;
			readonly status: number | null;
			readonly error: string;
			readonly at: number;
			readonly retryAt: number | null;
	  };

/** When a bucket's first fatal crash was, in a service or anywhere. */
export interface BucketAppearance {
	readonly bucket: string;
	readonly firstSeen: number;
}

/** A bucket's fatal crashes in one service and hour. */
export interface BucketHourCount {
	readonly bucket: string;
	readonly hour: number;
	readonly count: number;
}

/** Alert rules, alerts and their deliveries, and what rules are evaluated over. */
export interface AlertStore {
	createRule(rule: AlertRule): Promise<void>;
	listRules(): Promise<AlertRule[]>;
	/** Removes the rule and cancels its alerts not yet delivered; false if there is no such rule. */
	deleteRule(id: string): Promise<boolean>;
	/** Which of the keys stored alerts already have. */
	knownKeys(keys: readonly string[]): Promise<Set<string>>;
	/** Stores the alerts whose key is new; returns those stored. */
	addAlerts(alerts: readonly NewAlert[]): Promise<NewAlert[]>;
	/** Takes the lease, until `until`, of at most `limit` pending alerts due by `now`. */
	claimAlerts(owner: string, now: number, until: number, limit: number): Promise<ClaimedAlert[]>;
	/** Records an attempt of an alert whose lease `owner` holds. */
	recordDelivery(id: string, owner: string, outcome: DeliveryOutcome): Promise<void>;
	/** Alerts newest first, of one rule or all, at most `limit`, before the cursor. */
	listAlerts(query: {
		readonly rule?: string | undefined;
		readonly state?: AlertState | undefined;
		readonly cursor?: { readonly created: number; readonly id: string } | undefined;
		readonly limit: number;
	}): Promise<AlertRecord[]>;
	/** Buckets first seen (fatal) at or after `since`: per service, or anywhere (service null). */
	appearances(service: string | null, since: number): Promise<BucketAppearance[]>;
	/**
	 * The service versions (fatal) of every bucket seen in a version first at or after `since`, of
	 * one service or of all.
	 */
	recentBucketVersions(
		service: string | null,
		since: number,
	): Promise<Map<string, BucketVersion[]>>;
	/** Fatal crashes per bucket and hour in `[from, to)`, of one service or of all. */
	bucketHourCounts(service: string | null, from: number, to: number): Promise<BucketHourCount[]>;
}
