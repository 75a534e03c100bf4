/**
 * The PostgreSQL store: the same schema and queries as SQLite, shared by any number of servers.
 * @module
 */
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { KyselyStore } from "../_kysely-store.js";
import { migrate, StoreError } from "../_migrate.js";
import type { Database } from "../_schema.js";
import type { Store } from "../_types.js";

const INT8 = 20;

/** Connects to the PostgreSQL database at `url` (postgres://…) and brings it to the newest schema. */
export async function openPostgresStore(url: string, poolSize = 10): Promise<Store> {
	const pool = new pg.Pool({
		connectionString: url,
		max: poolSize,
		// Counts and times are bigint columns; every value the store keeps fits a double exactly.
		types: {
			getTypeParser: ((oid: number, format?: "text" | "binary") =>
				oid === INT8
					? Number
					: pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
		},
	});
	pool.on("error", () => {
		// An idle connection that the server closed is replaced by the pool on the next query.
	});
	try {
		const client = await pool.connect();
		client.release();
	} catch (error) {
		await pool.end();
		throw new StoreError(
			`cannot connect to PostgreSQL at ${redact(url)}: ${(error as Error).message}`,
		);
	}
	const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
	try {
		await migrate(db, "bytea");
	} catch (error) {
		await db.destroy();
		throw error;
	}
	return new KyselyStore(db, "postgres");
}

/** The URL without its password, for messages. */
function redact(url: string): string {
	try {
		const u = new URL(url);
		if (u.password !== "") u.password = "***";
		return u.toString();
	} catch {
		return "(unparsable URL)";
	}
}
