import { type Kysely, type Migration, sql } from "kysely";

/**
 * Each service version's host-hours from the heartbeats: how long the fleet ran it, so that a
 * bucket's absence from a version is weighed by how much that version ran, not by how long it was
 * the newest (versions roll out host by host). Counted from the host-hours kept so far.
 */
export const versionHostHours: Migration = {
	async up(db: Kysely<unknown>): Promise<void> {
		await db.schema
			.alterTable("service_versions")
			.addColumn("host_hours", "bigint", (c) => c.notNull().defaultTo(0))
			.execute();
		await countVersionHostHours(db);
	},
};

/** Sets every service version's host-hours to the count of the host-hours that ran it. */
export async function countVersionHostHours(db: Kysely<unknown>): Promise<void> {
	await sql`update service_versions set host_hours = (select count(*) from host_hours h where h.service = service_versions.service and h.version = service_versions.version)`.execute(
		db,
	);
}
