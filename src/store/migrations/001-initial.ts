import { type Kysely, type Migration, sql } from "kysely";

/** The first schema: tokens, buckets, crashes with their attributes, rollups and heartbeats. */
export function initialSchema(binaryType: "blob" | "bytea"): Migration {
	return {
		async up(db: Kysely<unknown>): Promise<void> {
			const text = "text" as const;
			const int = "bigint" as const;
			await db.schema
				.createTable("tokens")
				.addColumn("id", text, (c) => c.primaryKey())
				.addColumn("name", text, (c) => c.notNull())
				.addColumn("scope", text, (c) => c.notNull())
				.addColumn("hash", text, (c) => c.notNull().unique())
				.addColumn("created", int, (c) => c.notNull())
				.execute();
			await db.schema
				.createTable("buckets")
				.addColumn("id", text, (c) => c.primaryKey())
				.addColumn("version", int, (c) => c.notNull())
				.addColumn("title", text, (c) => c.notNull())
				.addColumn("reason", text, (c) => c.notNull())
				.addColumn("frames", text, (c) => c.notNull())
				.addColumn("why", text, (c) => c.notNull())
				.addColumn("diagnosis_id", text)
				.addColumn("diagnosis_confidence", text)
				.addColumn("diagnosis_rank", int, (c) => c.notNull())
				.addColumn("findings", text, (c) => c.notNull())
				.execute();
			await db.schema
				.createTable("bucket_kinds")
				.addColumn("bucket", text, (c) => c.notNull())
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("first_seen", int, (c) => c.notNull())
				.addColumn("last_seen", int, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("bucket_kinds_pk", ["bucket", "kind"])
				.execute();
			await db.schema
				.createTable("crashes")
				.addColumn("id", text, (c) => c.primaryKey())
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("time", int, (c) => c.notNull())
				.addColumn("received", int, (c) => c.notNull())
				.addColumn("host", text, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("version", text, (c) => c.notNull())
				.addColumn("bucket", text, (c) => c.notNull())
				.addColumn("signature_version", int, (c) => c.notNull())
				.addColumn("message", text)
				.addColumn("diagnosis_id", text)
				.addColumn("diagnosis_confidence", text)
				.addColumn("findings", text, (c) => c.notNull())
				.addColumn("raw", sql.raw(binaryType))
				.addColumn("raw_size", int, (c) => c.notNull())
				.addColumn("search", text, (c) => c.notNull())
				.addColumn("idempotency_key", text, (c) => c.unique())
				.execute();
			await db.schema
				.createIndex("crashes_time")
				.on("crashes")
				.columns(["kind", "time", "id"])
				.execute();
			await db.schema
				.createIndex("crashes_bucket")
				.on("crashes")
				.columns(["bucket", "kind", "time", "id"])
				.execute();
			await db.schema
				.createIndex("crashes_host")
				.on("crashes")
				.columns(["host", "time", "id"])
				.execute();
			await db.schema.createIndex("crashes_received").on("crashes").column("received").execute();
			await db.schema
				.createTable("crash_attributes")
				.addColumn("crash_id", text, (c) => c.notNull())
				.addColumn("name", text, (c) => c.notNull())
				.addColumn("value", text, (c) => c.notNull())
				.addPrimaryKeyConstraint("crash_attributes_pk", ["crash_id", "name", "value"])
				.execute();
			await db.schema
				.createIndex("crash_attributes_value")
				.on("crash_attributes")
				.columns(["name", "value", "crash_id"])
				.execute();
			await db.schema
				.createTable("bucket_hours")
				.addColumn("bucket", text, (c) => c.notNull())
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("hour", int, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("bucket_hours_pk", ["bucket", "kind", "hour", "service"])
				.execute();
			await db.schema
				.createIndex("bucket_hours_hour")
				.on("bucket_hours")
				.columns(["kind", "hour"])
				.execute();
			await db.schema
				.createTable("bucket_attr_hours")
				.addColumn("bucket", text, (c) => c.notNull())
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("hour", int, (c) => c.notNull())
				.addColumn("name", text, (c) => c.notNull())
				.addColumn("value", text, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("bucket_attr_hours_pk", [
					"bucket",
					"kind",
					"hour",
					"name",
					"value",
				])
				.execute();
			await db.schema
				.createIndex("bucket_attr_hours_hour")
				.on("bucket_attr_hours")
				.columns(["kind", "hour"])
				.execute();
			await db.schema
				.createTable("bucket_host_days")
				.addColumn("bucket", text, (c) => c.notNull())
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("day", int, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("host", text, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("bucket_host_days_pk", [
					"bucket",
					"kind",
					"day",
					"service",
					"host",
				])
				.execute();
			await db.schema
				.createTable("bucket_host_hours")
				.addColumn("bucket", text, (c) => c.notNull())
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("hour", int, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("host", text, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("bucket_host_hours_pk", [
					"bucket",
					"kind",
					"hour",
					"service",
					"host",
				])
				.execute();
			await db.schema
				.createTable("bucket_versions")
				.addColumn("bucket", text, (c) => c.notNull())
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("version", text, (c) => c.notNull())
				.addColumn("first_seen", int, (c) => c.notNull())
				.addColumn("last_seen", int, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("bucket_versions_pk", ["bucket", "kind", "service", "version"])
				.execute();
			await db.schema
				.createTable("service_versions")
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("version", text, (c) => c.notNull())
				.addColumn("first_seen", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("service_versions_pk", ["service", "version"])
				.execute();
			await db.schema
				.createTable("host_hours")
				.addColumn("hour", int, (c) => c.notNull())
				.addColumn("host", text, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("version", text, (c) => c.notNull())
				.addPrimaryKeyConstraint("host_hours_pk", ["hour", "host"])
				.execute();
			await db.schema
				.createTable("host_hour_attrs")
				.addColumn("hour", int, (c) => c.notNull())
				.addColumn("host", text, (c) => c.notNull())
				.addColumn("name", text, (c) => c.notNull())
				.addColumn("value", text, (c) => c.notNull())
				.addPrimaryKeyConstraint("host_hour_attrs_pk", ["hour", "host", "name", "value"])
				.execute();
			await db.schema
				.createTable("fleet_hours")
				.addColumn("hour", int, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("hosts", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("fleet_hours_pk", ["hour", "service"])
				.execute();
			await db.schema
				.createTable("fleet_attr_hours")
				.addColumn("hour", int, (c) => c.notNull())
				.addColumn("service", text, (c) => c.notNull())
				.addColumn("name", text, (c) => c.notNull())
				.addColumn("value", text, (c) => c.notNull())
				.addColumn("hosts", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("fleet_attr_hours_pk", ["hour", "service", "name", "value"])
				.execute();
		},
	};
}
