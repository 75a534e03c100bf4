import type { Database } from "./_schema.js";
import type { BucketVersion } from "./_types.js";

/** Rows of `bucket_versions` as each bucket's list of versions, in the order the rows come. */
export function groupBucketVersions(
	rows: readonly Database["bucket_versions"][],
): Map<string, BucketVersion[]> {
	const out = new Map<string, BucketVersion[]>();
	for (const v of rows) {
		const list = out.get(v.bucket) ?? [];
		list.push({
			service: v.service,
			version: v.version,
			firstSeen: Number(v.first_seen),
			lastSeen: Number(v.last_seen),
			count: Number(v.count),
		});
		out.set(v.bucket, list);
	}
	return out;
}
