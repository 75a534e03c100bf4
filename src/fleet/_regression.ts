/** A service version, by when the service first reported it. */
export interface ReleasedVersion {
	readonly service: string;
	readonly version: string;
	readonly firstSeen: number;
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
}

/**
 * Finds where a bucket regressed: for each service, versions in the order the service first
 * reported them; the bucket regressed when it was seen in one, not in a later one, and seen again
 * in a still later one. Returns the newest such return per service.
 */
export function findRegressions(
	seenIn: readonly { readonly service: string; readonly version: string }[],
	released: readonly ReleasedVersion[],
): Regression[] {
	const seen = new Set(seenIn.map((v) => `${v.service}\0${v.version}`));
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
		let lastSeen: string | null = null;
		let absent: string[] = [];
		let found: Regression | null = null;
		for (const v of ordered) {
			if (seen.has(`${service}\0${v.version}`)) {
				if (lastSeen !== null && absent.length > 0)
					found = { service, lastBefore: lastSeen, absentIn: absent, version: v.version };
				lastSeen = v.version;
				absent = [];
			} else if (lastSeen !== null) absent.push(v.version);
		}
		if (found !== null) out.push(found);
	}
	return out;
}
