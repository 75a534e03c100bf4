/** A real crash text the fleet is made from, with what its meta file says about it. */
export interface SourceText {
	/** Where it came from, e.g. `crashes/go1.24.4-arm64/nil-pointer.all.txt` (the level is read from it). */
	readonly name: string;
	readonly text: string;
	readonly goarch: string;
	readonly goVersion: string;
	readonly scenario: string;
	/** A crash of the arm64 split-SP compiler bug (test/fixtures/diagnose/split-sp). */
	readonly splitSP: boolean;
}

/** One crash report as a host of the simulated fleet sends it. */
export interface SimulatedCrash {
	readonly text: string;
	readonly kind: "fatal" | "recovered";
	/** RFC 3339, UTC. */
	readonly time: string;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly attributes: Readonly<Record<string, string>>;
}

/** One host's hourly report that it is alive: the denominator of crash rates. */
export interface SimulatedHeartbeat {
	readonly host: string;
	/** RFC 3339, UTC. */
	readonly time: string;
	readonly service: string;
	readonly version: string;
	readonly attributes: Readonly<Record<string, string>>;
}

/** What the fleet is made from, and its size. */
export interface SimulateOptions {
	readonly sources: readonly SourceText[];
	/** The history ends here, ms since the epoch. */
	readonly end: number;
	/** Days of history (default 21). */
	readonly days?: number;
	/** Hosts in the fleet (default 300). */
	readonly hosts?: number;
	/** The seed of every random choice (default 1). */
	readonly seed?: number;
}

/** Everything the fleet sent, each list in time order. */
export interface SimulatedFleet {
	readonly crashes: SimulatedCrash[];
	readonly heartbeats: SimulatedHeartbeat[];
}
