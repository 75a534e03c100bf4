import type { Kysely, Migration } from "kysely";

/**
 * The hour before which heartbeats' host-hours were deleted by retention: a heartbeat that arrives
 * late for one of those hours is already counted, and would be counted again.
 */
export const expiredHours: Migration = {
	async up(db: Kysely<unknown>): Promise<void> {
		await db.schema
			.createTable("host_hours_expired")
			.addColumn("id", "integer", (c) => c.primaryKey())
			.addColumn("before", "bigint", (c) => c.notNull())
			.execute();
	},
};
