import type { Kysely, Transaction } from "kysely";
import type { Database } from "./_schema.js";
import type { NextTail, StreamStore, StreamTail } from "./_stream-types.js";
import type { NewCrash, StoredCrash } from "./_types.js";

type TailRow = Database["stream_tails"];

function tailOf(r: TailRow): StreamTail {
	return {
		key: r.key,
		origin: r.origin,
		held: r.held,
		opened: r.opened === null ? null : Number(r.opened),
		last: Number(r.last),
		batches: JSON.parse(r.batches) as string[],
		updated: Number(r.updated),
		version: Number(r.version),
	};
}

/** Stream tails over a Kysely database: one set of queries for SQLite and PostgreSQL. */
export class KyselyStreamStore implements StreamStore {
	readonly #db: Kysely<Database>;
	readonly #insertCrashes: (
		trx: Transaction<Database>,
		crashes: readonly NewCrash[],
	) => Promise<StoredCrash[]>;

	/** `insertCrashes` stores crashes inside a transaction, as the store's `insertCrashes` does. */
	constructor(
		db: Kysely<Database>,
		insertCrashes: (
			trx: Transaction<Database>,
			crashes: readonly NewCrash[],
		) => Promise<StoredCrash[]>,
	) {
		this.#db = db;
		this.#insertCrashes = insertCrashes;
	}

	async getTail(key: string): Promise<StreamTail | null> {
		const row = await this.#db
			.selectFrom("stream_tails")
			.selectAll()
			.where("key", "=", key)
			.executeTakeFirst();
		return row === undefined ? null : tailOf(row);
	}

	async advance(
		key: string,
		version: number | null,
		next: NextTail | null,
		crashes: readonly NewCrash[],
	): Promise<StoredCrash[] | null> {
		return this.#db.transaction().execute(async (trx) => {
			// The write that takes the tail comes first: on PostgreSQL a second writer of the same
			// version waits here for the first to commit, then finds the version gone and writes nothing.
			let written: bigint;
			const row = next === null ? null : { ...next, batches: JSON.stringify(next.batches) };
			if (version === null) {
				if (row === null)
					throw new TypeError("a stream tail that was never written cannot be deleted");
				written =
					(
						await trx
							.insertInto("stream_tails")
							.values({ key, ...row, version: 1 })
							.onConflict((oc) => oc.column("key").doNothing())
							.executeTakeFirst()
					).numInsertedOrUpdatedRows ?? 0n;
			} else if (row === null)
				written = (
					await trx
						.deleteFrom("stream_tails")
						.where("key", "=", key)
						.where("version", "=", version)
						.executeTakeFirst()
				).numDeletedRows;
			else
				written = (
					await trx
						.updateTable("stream_tails")
						.set({ ...row, version: version + 1 })
						.where("key", "=", key)
						.where("version", "=", version)
						.executeTakeFirst()
				).numUpdatedRows;
			if (written === 0n) return null;
			return crashes.length === 0 ? [] : this.#insertCrashes(trx, crashes);
		});
	}

	async idleTails(before: number, limit: number): Promise<StreamTail[]> {
		const rows = await this.#db
			.selectFrom("stream_tails")
			.selectAll()
			.where("updated", "<", before)
			.orderBy("updated")
			.limit(limit)
			.execute();
		return rows.map(tailOf);
	}
}
