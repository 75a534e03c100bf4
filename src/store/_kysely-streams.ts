import type { Kysely, Transaction } from "kysely";
import type { Database } from "./_schema.js";
import type { StreamStore, StreamTail, TailWrite } from "./_stream-types.js";
import type { NewCrash, StoredCrash } from "./_types.js";

type TailRow = Database["stream_tails"];

const compare = (a: string | undefined, b: string | undefined): number =>
	(a ?? "") < (b ?? "") ? -1 : (a ?? "") > (b ?? "") ? 1 : 0;

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

	async getTails(keys: readonly string[]): Promise<Map<string, StreamTail>> {
		const tails = new Map<string, StreamTail>();
		// In parts, far below SQLite's 32,766 bound parameters.
		for (let i = 0; i < keys.length; i += 500)
			for (const row of await this.#db
				.selectFrom("stream_tails")
				.selectAll()
				.where("key", "in", keys.slice(i, i + 500))
				.execute())
				tails.set(row.key, tailOf(row));
		return tails;
	}

	async advance(writes: readonly TailWrite[]): Promise<(StoredCrash[] | null)[]> {
		if (writes.length === 0) return [];
		return this.#db.transaction().execute(async (trx) => {
			const won: number[] = [];
			// In key order, so that two transactions that take the same tails take them in one order.
			const order = writes.map((_, i) => i).sort((a, b) => compare(writes[a]?.key, writes[b]?.key));
			for (const i of order) if (await this.#take(trx, writes[i] as TailWrite)) won.push(i);
			won.sort((a, b) => a - b);
			const results: (StoredCrash[] | null)[] = writes.map(() => null);
			const stored = await this.#insertCrashes(
				trx,
				won.flatMap((i) => (writes[i] as TailWrite).crashes),
			);
			let at = 0;
			for (const i of won) {
				const n = (writes[i] as TailWrite).crashes.length;
				results[i] = stored.slice(at, at + n);
				at += n;
			}
			return results;
		});
	}

	/**
	 * Writes one tail if it is still at the version it was read at. On PostgreSQL a second writer
	 * of the same version waits here for the first to commit, then finds the version gone.
	 */
	async #take(trx: Transaction<Database>, write: TailWrite): Promise<boolean> {
		const { key, version, next } = write;
		const row = next === null ? null : { ...next, batches: JSON.stringify(next.batches) };
		if (version === null) {
			if (row === null)
				throw new TypeError("a stream tail that was never written cannot be deleted");
			const r = await trx
				.insertInto("stream_tails")
				.values({ key, ...row, version: 1 })
				.onConflict((oc) => oc.column("key").doNothing())
				.executeTakeFirst();
			return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
		}
		if (row === null) {
			const r = await trx
				.deleteFrom("stream_tails")
				.where("key", "=", key)
				.where("version", "=", version)
				.executeTakeFirst();
			return r.numDeletedRows > 0n;
		}
		const r = await trx
			.updateTable("stream_tails")
			.set({ ...row, version: version + 1 })
			.where("key", "=", key)
			.where("version", "=", version)
			.executeTakeFirst();
		return r.numUpdatedRows > 0n;
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
