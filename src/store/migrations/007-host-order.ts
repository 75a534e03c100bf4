import type { Kysely, Migration } from "kysely";

/**
 * Each bucket's host-days in host order: whether a host had a crash in a bucket on the days of a
 * window is one lookup along this index.
 */
export const hostOrder: Migration = {
	async up(db: Kysely<unknown>): Promise<void> {
		await db.schema
			.createIndex("bucket_host_days_host")
			.on("bucket_host_days")
			.columns(["bucket", "kind", "host", "day", "service"])
			.execute();
	},
};
