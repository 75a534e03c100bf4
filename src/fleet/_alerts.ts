import { findRegressions, type ReleasedVersion } from "./_regression.js";

const HOUR = 3_600_000;

/** What a rule says, as alert decisions need it. */
export interface AlertCondition {
	readonly id: string;
	readonly created: number;
	/** For rates: fatal crashes per host-hour above which a bucket alerts. */
	readonly threshold: number | null;
	/** For rates: the fewest crashes in an hour for its rate to count. */
	readonly minCount: number;
}

/** Something a rule should alert on, once: `key` names it among all the rule's alerts. */
export interface AlertTrigger {
	readonly key: string;
	readonly bucket: string;
	readonly service: string | null;
	/** The facts of the event, for the webhook. */
	readonly facts: Readonly<Record<string, unknown>>;
}

/** Buckets first seen since the rule was made: each alerts once. */
export function newBucketTriggers(
	rule: AlertCondition,
	service: string | null,
	appearances: readonly { readonly bucket: string; readonly firstSeen: number }[],
): AlertTrigger[] {
	return appearances
		.filter((a) => a.firstSeen >= rule.created)
		.map((a) => ({
			key: `${rule.id}/new/${a.bucket}`,
			bucket: a.bucket,
			service,
			facts: { firstSeen: new Date(a.firstSeen).toISOString() },
		}));
}

/**
 * Buckets seen again in a newer version of a service after a version they were absent from, where
 * the return came after the rule was made: each return alerts once.
 */
export function regressionTriggers(
	rule: AlertCondition,
	versionsByBucket: ReadonlyMap<
		string,
		readonly {
			readonly service: string;
			readonly version: string;
			readonly firstSeen: number;
			readonly count: number;
		}[]
	>,
	released: readonly ReleasedVersion[],
	now: number,
): AlertTrigger[] {
	const out: AlertTrigger[] = [];
	for (const [bucket, versions] of versionsByBucket)
		for (const r of findRegressions(versions, released, now)) {
			const back = versions.find((v) => v.service === r.service && v.version === r.version);
			if (back === undefined || back.firstSeen < rule.created) continue;
			out.push({
				key: `${rule.id}/regressed/${bucket}/${r.service}/${r.version}`,
				bucket,
				service: r.service,
				facts: {
					version: r.version,
					lastBefore: r.lastBefore,
					absentIn: r.absentIn,
					expectedInAbsence: r.expectedInAbsence,
					firstSeen: new Date(back.firstSeen).toISOString(),
				},
			});
		}
	return out;
}

/**
 * Buckets whose fatal crashes per host-hour passed the rule's threshold in an hour at or after
 * `from` when the hour before had not: one alert each time the rate crosses it. An hour without
 * heartbeats has no rate. The hour in progress counts with what it has so far.
 */
export function rateTriggers(
	rule: AlertCondition,
	service: string | null,
	counts: readonly { readonly bucket: string; readonly hour: number; readonly count: number }[],
	hostHours: ReadonlyMap<number, number>,
	from: number,
): AlertTrigger[] {
	const threshold = rule.threshold;
	if (threshold === null) return [];
	const byBucket = new Map<string, Map<number, number>>();
	for (const c of counts) {
		const hours = byBucket.get(c.bucket) ?? new Map<number, number>();
		hours.set(c.hour, (hours.get(c.hour) ?? 0) + c.count);
		byBucket.set(c.bucket, hours);
	}
	const above = (count: number, hosts: number): boolean =>
		hosts > 0 && count >= rule.minCount && count / hosts > threshold;
	const out: AlertTrigger[] = [];
	for (const [bucket, hours] of byBucket)
		for (const [hour, count] of [...hours].sort(([a], [b]) => a - b)) {
			if (hour < from) continue;
			const hosts = hostHours.get(hour) ?? 0;
			if (!above(count, hosts)) continue;
			if (above(hours.get(hour - HOUR) ?? 0, hostHours.get(hour - HOUR) ?? 0)) continue;
			out.push({
				key: `${rule.id}/rate/${bucket}/${hour}`,
				bucket,
				service,
				facts: {
					hour: new Date(hour).toISOString(),
					count,
					hostHours: hosts,
					perHostHour: count / hosts,
					threshold,
				},
			});
		}
	return out;
}
