import { type Kysely, type Migration, sql } from "kysely";

const DAY = 86_400_000;

/**
 * Rollups that let a read of a long window sum days, not hours, and all crashes without summing
 * every bucket: counts per kind and hour (crash_hours) and per attribute value and hour and day
 * (attr_hours, attr_days); per bucket and day (bucket_days, bucket_attr_days); host-hours per
 * attribute value and day (fleet_attr_days). Indexes find a bucket list's attribute value without
 * reading every other value. Filled from the hourly rollups that 001 made.
 */
export function dayRollups(binaryType: "blob" | "bytea"): Migration {
	// SQLite (blob) keeps these tables in their key's order, counts beside the key, as PostgreSQL
	// keeps an index; PostgreSQL has no such tables.
	const clustered = binaryType === "blob" ? sql`without rowid` : sql``;
	return {
		async up(db: Kysely<unknown>): Promise<void> {
			const text = "text" as const;
			const int = "bigint" as const;
			await db.schema
				.createTable("crash_hours")
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("hour", int, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("crash_hours_pk", ["kind", "hour", "service"])
				.modifyEnd(clustered)
				.execute();
			await db.schema
				.createTable("bucket_days")
				.addColumn("bucket", text, (c) => c.notNull())
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("day", int, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("bucket_days_pk", ["kind", "day", "bucket", "service"])
				.modifyEnd(clustered)
				.execute();
			await db.schema
				.createTable("attr_hours")
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("hour", int, (c) => c.notNull())
				.addColumn("name", text, (c) => c.notNull())
				.addColumn("value", text, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("attr_hours_pk", ["kind", "hour", "name", "value"])
				.modifyEnd(clustered)
				.execute();
			await db.schema
				.createTable("attr_days")
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("day", int, (c) => c.notNull())
				.addColumn("name", text, (c) => c.notNull())
				.addColumn("value", text, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("attr_days_pk", ["kind", "day", "name", "value"])
				.modifyEnd(clustered)
				.execute();
			await db.schema
				.createTable("bucket_attr_days")
				.addColumn("bucket", text, (c) => c.notNull())
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("day", int, (c) => c.notNull())
				.addColumn("name", text, (c) => c.notNull())
				.addColumn("value", text, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("bucket_attr_days_pk", ["bucket", "kind", "day", "name", "value"])
				.modifyEnd(clustered)
				.execute();
			await db.schema
				.createTable("fleet_attr_days")
				.addColumn("day", int, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("name", text, (c) => c.notNull())
				.addColumn("value", text, (c) => c.notNull())
				.addColumn("hosts", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("fleet_attr_days_pk", ["day", "service", "name", "value"])
				.modifyEnd(clustered)
				.execute();

			await fillDayRollups(db);
			// A bucket list filtered by one attribute value reads that value's rows only.
			await db.schema
				.createIndex("bucket_attr_hours_value")
				.on("bucket_attr_hours")
				.columns(["kind", "name", "value", "hour", "bucket"])
				.execute();
			await db.schema
				.createIndex("bucket_attr_days_value")
				.on("bucket_attr_days")
				.columns(["kind", "name", "value", "day", "bucket", "count"])
				.execute();
		},
	};
}

/** Fills the rollups of 003 from the hourly rollups of 001: what every crash and heartbeat so far adds. */
export async function fillDayRollups(db: Kysely<unknown>): Promise<void> {
	const day = sql`hour - hour % ${sql.lit(DAY)}`;
	// In this order: attr_days is summed from bucket_attr_days, the smaller of the two.
	const statements = [
		sql`insert into crash_hours (kind, hour, service, count)
			select kind, hour, service, sum(count) from bucket_hours group by 1, 2, 3`,
		sql`insert into bucket_days (bucket, kind, day, service, count)
			select bucket, kind, ${day}, service, sum(count) from bucket_hours group by 1, 2, 3, 4`,
		sql`insert into attr_hours (kind, hour, name, value, count)
			select kind, hour, name, value, sum(count) from bucket_attr_hours group by 1, 2, 3, 4`,
		sql`insert into bucket_attr_days (bucket, kind, day, name, value, count)
			select bucket, kind, ${day}, name, value, sum(count) from bucket_attr_hours group by 1, 2, 3, 4, 5`,
		sql`insert into attr_days (kind, day, name, value, count)
			select kind, day, name, value, sum(count) from bucket_attr_days group by 1, 2, 3, 4`,
		sql`insert into fleet_attr_days (day, service, name, value, hosts)
			select ${day}, service, name, value, sum(hosts) from fleet_attr_hours group by 1, 2, 3, 4`,
	];
	for (const statement of statements) await statement.execute(db);
}
