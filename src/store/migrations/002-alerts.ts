import type { Kysely, Migration } from "kysely";

/** Alerts: the rules that say when to send one, and every alert with the state of its delivery. */
export const alertSchema: Migration = {
	async up(db: Kysely<unknown>): Promise<void> {
		const text = "text" as const;
		const int = "bigint" as const;
		await db.schema
			.createTable("alert_rules")
			.addColumn("id", text, (c) => c.primaryKey())
			.addColumn("name", text, (c) => c.notNull())
			// Null: every service.
			.addColumn("service", text)
			.addColumn("event", text, (c) => c.notNull())
			.addColumn("threshold", "double precision")
			.addColumn("min_count", int, (c) => c.notNull())
			.addColumn("url", text, (c) => c.notNull())
			.addColumn("format", text, (c) => c.notNull())
			.addColumn("created", int, (c) => c.notNull())
			.execute();
		await db.schema
			.createTable("alerts")
			.addColumn("id", text, (c) => c.primaryKey())
			.addColumn("rule", text, (c) => c.notNull())
			// What the alert is about, once per rule: two servers evaluating at once insert one row.
			.addColumn("key", text, (c) => c.notNull().unique())
			.addColumn("event", text, (c) => c.notNull())
			.addColumn("service", text)
			.addColumn("bucket", text, (c) => c.notNull())
			.addColumn("created", int, (c) => c.notNull())
			.addColumn("details", text, (c) => c.notNull())
			.addColumn("state", text, (c) => c.notNull())
			.addColumn("attempts", int, (c) => c.notNull())
			.addColumn("next_attempt", int, (c) => c.notNull())
			.addColumn("lease_owner", text)
			.addColumn("lease_until", int)
			.addColumn("last_status", int)
			.addColumn("last_error", text)
			.addColumn("sent_at", int)
			.execute();
		await db.schema
			.createIndex("alerts_due")
			.on("alerts")
			.columns(["state", "next_attempt"])
			.execute();
		await db.schema.createIndex("alerts_rule").on("alerts").columns(["rule", "created"]).execute();
		await db.schema.createIndex("alerts_created").on("alerts").columns(["created", "id"]).execute();
	},
};
