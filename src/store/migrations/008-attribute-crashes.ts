import { type Kysely, type Migration, sql } from "kysely";

/**
 * Each crash attribute carries its crash's kind, time, bucket and host, indexed by attribute value
 * then bucket: the hosts of a bucket list filtered by an attribute value are read from that value's
 * index entries alone, not looked up crash by crash. Filled from the crashes stored so far.
 */
export const attributeCrashes: Migration = {
	async up(db: Kysely<unknown>): Promise<void> {
		for (const [column, type, empty] of [
			["kind", "text", sql.lit("")],
			["time", "bigint", sql.lit(0)],
			["bucket", "text", sql.lit("")],
			["host", "text", sql.lit("")],
		] as const)
			await db.schema
				.alterTable("crash_attributes")
				.addColumn(column, type, (c) => c.notNull().defaultTo(empty))
				.execute();
		await fillAttributeCrashes(db);
		await db.schema.dropIndex("crash_attributes_value").execute();
		await db.schema
			.createIndex("crash_attributes_value")
			.on("crash_attributes")
			.columns(["name", "value", "kind", "bucket", "time", "host", "crash_id"])
			.execute();
	},
};

/** Sets every crash attribute's kind, time, bucket and host to its crash's. */
export async function fillAttributeCrashes(db: Kysely<unknown>): Promise<void> {
	await sql`update crash_attributes set kind = c.kind, time = c.time, bucket = c.bucket, host = c.host
		from crashes c where c.id = crash_attributes.crash_id`.execute(db);
}
