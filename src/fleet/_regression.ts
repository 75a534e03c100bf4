/** A service version, by when the service first reported it, and how much the fleet ran it. */
export interface ReleasedVersion {
	readonly service: string;
	readonly version: string;
	readonly firstSeen: number;
	/** Host-hours the heartbeats reported it running; 0 or absent when there were none. */
	readonly hostHours?: number;
}

/** A bucket seen again in a newer version after a version of the same service it was absent from. */
export interface Regression {
	readonly service: string;
	/** The newest version the bucket was seen in before it went away. */
	readonly lastBefore: string;
	/** The versions without the bucket in between. */
	readonly absentIn: readonly string[];
	/** The version it came back in. */
	readonly version: string;
	/**
	 * How many crashes of the bucket the versions without it would have had at the bucket's rate
	 * in the versions with it: per host-hour each version ran, or per hour it was the newest.
	 */
	readonly expectedInAbsence: number;
	/** What the rate was per: the heartbeats' host-hours of each version, or its time as the newest. */
	readonly exposure: "host-hours" | "newest";
}

/**
 * The fewest crashes the versions without a bucket must have been expected to have for their
 * having none to count: at 3, a bucket that merely stayed at its rate has none with probability
 * e^-3, 5% (Poisson); a rare bucket missing from a short-lived version is no regression.
 */
export const MIN_EXPECTED_IN_ABSENCE = 3;

/**
 * Finds where a bucket regressed: for each service, versions in the order the service first
 * reported them; the bucket regressed when it was seen in one, not in a later one, and seen again
 * in a still later one, and the versions without it were expected to have had at least
 * MIN_EXPECTED_IN_ABSENCE of its crashes at its rate in the versions with it. A version's exposure
 * is the host-hours the heartbeats reported it running when every version of the service has some
 * (a version rolled out to few hosts ran little, however long it was the newest); else the time
 * from when it was first seen to when the next was (the newest: to `now`). Returns the newest such return per service.
 */
export function findRegressions(
	seenIn: readonly { readonly service: string; readonly version: string; readonly count: number }[],
	released: readonly ReleasedVersion[],
	now: number,
): Regression[] {
	const counts = new Map<string, number>();
	for (const v of seenIn) {
		const key = `${v.service}\0${v.version}`;
		counts.set(key, (counts.get(key) ?? 0) + v.count);
	}
	const byService = new Map<string, ReleasedVersion[]>();
	for (const r of released) {
		const list = byService.get(r.service) ?? [];
		list.push(r);
		byService.set(r.service, list);
	}
	const out: Regression[] = [];
	for (const [service, versions] of byService) {
		if (!seenIn.some((v) => v.service === service)) continue;
		const ordered = [...versions].sort(
			(a, b) => a.firstSeen - b.firstSeen || (a.version < b.version ? -1 : 1),
		);
		const byHostHours = ordered.every((v) => (v.hostHours ?? 0) > 0);
		const time = (i: number): number =>
			byHostHours
				? ((ordered[i] as ReleasedVersion).hostHours ?? 0)
				: Math.max(
						0,
						(ordered[i + 1]?.firstSeen ?? now) - (ordered[i] as ReleasedVersion).firstSeen,
					);
		let seenCount = 0;
		let seenTime = 0;
		for (const [i, v] of ordered.entries()) {
			const n = counts.get(`${service}\0${v.version}`);
			if (n === undefined) continue;
			seenCount += n;
			seenTime += time(i);
		}
		const rate = seenTime > 0 ? seenCount / seenTime : Number.POSITIVE_INFINITY;
		let lastSeen: string | null = null;
		let absent: string[] = [];
		let absentTime = 0;
		let found: Regression | null = null;
		for (const [i, v] of ordered.entries()) {
			if (counts.has(`${service}\0${v.version}`)) {
				const expected = absentTime === 0 ? 0 : rate * absentTime;
				if (lastSeen !== null && absent.length > 0 && expected >= MIN_EXPECTED_IN_ABSENCE)
					found = {
						service,
						lastBefore: lastSeen,
						absentIn: absent,
						version: v.version,
						expectedInAbsence: Math.round(expected * 10) / 10,
						exposure: byHostHours ? "host-hours" : "newest",
					};
				lastSeen = v.version;
				absent = [];
				absentTime = 0;
			} else if (lastSeen !== null) {
				absent.push(v.version);
				absentTime += time(i);
			}
		}
		if (found !== null) out.push(found);
	}
	return out;
}
