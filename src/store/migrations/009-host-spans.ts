import { type Kysely, type Migration, type QueryExecutorProvider, sql } from "kysely";

/**
 * Each host's span in each bucket: the hours of its first and last crash there, and how many. A
 * bucket list counts a host at once when its first or last crash is in the window and out when
 * neither it nor any between can be; only a host with crashes before and after the window is looked
 * up day by day. Filled from the hourly host rollup.
 */
export function hostSpans(binaryType: "blob" | "bytea"): Migration {
	return {
		async up(db: Kysely<unknown>): Promise<void> {
			const text = "text" as const;
			const int = "bigint" as const;
			await db.schema
				.createTable("bucket_hosts")
				.addColumn("bucket", text, (c) => c.notNull())
				.addColumn("kind", text, (c) => c.notNull())
				.addColumn("host", text, (c) => c.notNull())
				.addColumn("first_seen", int, (c) => c.notNull())
				.addColumn("last_seen", int, (c) => c.notNull())
				.addColumn("count", int, (c) => c.notNull())
				.addPrimaryKeyConstraint("bucket_hosts_pk", ["bucket", "kind", "host"])
				.modifyEnd(binaryType === "blob" ? sql`without rowid` : sql``)
				.execute();
			// SQLite keeps the rows in key order with the spans beside it; PostgreSQL reads them
			// from an index that holds the spans, not row by row from the table.
			if (binaryType === "bytea")
				await db.schema
					.createIndex("bucket_hosts_spans")
					.on("bucket_hosts")
					.columns(["bucket", "kind", "first_seen", "last_seen", "host"])
					.execute();
			await fillHostSpans(db);
		},
	};
}

/** Writes the host spans of the buckets given (of all, by default) from the hourly host rollup. */
export async function fillHostSpans(
	db: QueryExecutorProvider,
	buckets?: readonly string[],
): Promise<void> {
	const only = buckets === undefined ? sql`` : sql`where bucket in (${sql.join(buckets)})`;
	await sql`insert into bucket_hosts (bucket, kind, host, first_seen, last_seen, count)
		select bucket, kind, host, min(hour), max(hour), sum(count) from bucket_host_hours ${only}
		group by bucket, kind, host`.execute(db);
}
