import type { Kysely, Migration } from "kysely";

/**
 * The unfinished end of each log stream that OTLP log records arrive in, kept between requests
 * so that a crash split over several requests, to any server, is cut out whole.
 */
export const streamTails: Migration = {
	async up(db: Kysely<unknown>): Promise<void> {
		const int = "bigint" as const;
		await db.schema
			.createTable("stream_tails")
			.addColumn("key", "text", (c) => c.primaryKey())
			.addColumn("origin", "text", (c) => c.notNull())
			.addColumn("held", "text", (c) => c.notNull())
			.addColumn("opened", int)
			.addColumn("last", int, (c) => c.notNull())
			.addColumn("batches", "text", (c) => c.notNull())
			.addColumn("updated", int, (c) => c.notNull())
			.addColumn("version", int, (c) => c.notNull())
			.execute();
		await db.schema
			.createIndex("stream_tails_updated")
			.on("stream_tails")
			.column("updated")
			.execute();
	},
};
