import type { NewCrash, StoredCrash } from "./_types.js";

/** The unfinished end of one log stream, kept between requests so that any server goes on with it. */
export interface StreamTail {
	readonly key: string;
	/** What the stream's crashes are stored with (host, service, attributes…), as JSON. */
	readonly origin: string;
	/** The text the stream's report cutter holds: an open report and the lines before it. */
	readonly held: string;
	/** Time of the record in which the open report began (ms since the epoch); null: none open. */
	readonly opened: number | null;
	/** Time of the newest record written (ms since the epoch). */
	readonly last: number;
	/** Digests of the batches of records written most recently: a batch sent again is skipped. */
	readonly batches: readonly string[];
	/** When the tail was last written (ms since the epoch, the server's clock). */
	readonly updated: number;
	/** Raised by every write: a write of a tail that was read at an older version is refused. */
	readonly version: number;
}

/** A tail as a writer gives it: the store keeps the key and the version. */
export type NextTail = Omit<StreamTail, "key" | "version">;

/** The tails of log streams, written compare-and-swap, each with the crashes cut from it. */
export interface StreamStore {
	getTail(key: string): Promise<StreamTail | null>;
	/**
	 * In one transaction: replaces the tail read at `version` (null: there was none) by `next`
	 * (null: deletes it) and stores the crashes as `insertCrashes` does. Resolves null, having
	 * written nothing, when another writer changed the tail since it was read.
	 */
	advance(
		key: string,
		version: number | null,
		next: NextTail | null,
		crashes: readonly NewCrash[],
	): Promise<StoredCrash[] | null>;
	/** At most `limit` tails last written before `before`, oldest first. */
	idleTails(before: number, limit: number): Promise<StreamTail[]>;
}
