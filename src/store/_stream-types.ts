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

/**
 * One tail to write: the version it was read at (null: there was none), what replaces it (null:
 * delete it), and the crashes cut from it.
 */
export interface TailWrite {
	readonly key: string;
	readonly version: number | null;
	readonly next: NextTail | null;
	readonly crashes: readonly NewCrash[];
}

/** The tails of log streams, written compare-and-swap, each with the crashes cut from it. */
export interface StreamStore {
	/** The tails of those of the streams that have one. */
	getTails(keys: readonly string[]): Promise<Map<string, StreamTail>>;
	/**
	 * In one transaction: writes each tail that is still at the version it was read at, and stores
	 * those writes' crashes as `insertCrashes` does. Gives, per write, its crashes as stored, or
	 * null when another writer changed the tail since it was read (nothing of it is written).
	 */
	advance(writes: readonly TailWrite[]): Promise<(StoredCrash[] | null)[]>;
	/** At most `limit` tails last written before `before`, oldest first. */
	idleTails(before: number, limit: number): Promise<StreamTail[]>;
}
