import type { Kysely, Migration } from "kysely";

/**
 * Each bucket's host-days in host order: the distinct hosts of a window that covers much of a
 * bucket's life are counted along this index, one host after another, without sorting them.
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
