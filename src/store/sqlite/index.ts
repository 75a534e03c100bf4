/**
 * The SQLite store: one file, WAL journal, every commit synced before it is acknowledged.
 * @module
 */
import Sqlite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { KyselyStore } from "../_kysely-store.js";
import { migrate, StoreError } from "../_migrate.js";
import type { Database } from "../_schema.js";
import type { Store } from "../_types.js";

/** Opens (creating if needed) the SQLite database at `path` and brings it to the newest schema. */
export async function openSqliteStore(path: string): Promise<Store> {
	let sqlite: Sqlite.Database;
	try {
		sqlite = new Sqlite(path);
		sqlite.pragma("journal_mode = WAL");
		// FULL: a commit is on disk before the transaction returns, so acknowledged means stored.
		sqlite.pragma("synchronous = FULL");
		sqlite.pragma("busy_timeout = 10000");
	} catch (error) {
		throw new StoreError(`cannot open SQLite database ${path}: ${(error as Error).message}`);
	}
	const db = new Kysely<Database>({
		dialect: new SqliteDialect({ database: cachingStatements(sqlite) }),
	});
	try {
		await migrate(db, "blob");
	} catch (error) {
		await db.destroy();
		throw error;
	}
	return new KyselyStore(db, "sqlite");
}

/** Statements kept prepared; the query layer asks for each anew, and preparing costs more than running. */
const CACHED_STATEMENTS = 500;

/** The database with `prepare` answered from a cache of the statements most recently used. */
function cachingStatements(sqlite: Sqlite.Database): Sqlite.Database {
	const cache = new Map<string, Sqlite.Statement>();
	return new Proxy(sqlite, {
		get(target, key, receiver) {
			if (key !== "prepare") {
				const value: unknown = Reflect.get(target, key, receiver);
				return typeof value === "function" ? value.bind(target) : value;
			}
			return (source: string): Sqlite.Statement => {
				let statement = cache.get(source);
				if (statement === undefined) {
					statement = target.prepare(source);
					if (cache.size >= CACHED_STATEMENTS) cache.delete(cache.keys().next().value as string);
				} else cache.delete(source);
				cache.set(source, statement);
				return statement;
			};
		},
	});
}
