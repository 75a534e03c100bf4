import { describe, expect, it } from "vitest";
import { findRegressions } from "./_regression.js";

const released = [
	{ service: "api", version: "1.0", firstSeen: 1 },
	{ service: "api", version: "1.2", firstSeen: 3 },
	{ service: "api", version: "1.1", firstSeen: 2 },
	{ service: "api", version: "1.3", firstSeen: 4 },
	{ service: "web", version: "7", firstSeen: 1 },
];

describe("findRegressions", () => {
	it("finds a bucket that came back after a version without it, in release order", () => {
		const seen = [
			{ service: "api", version: "1.0" },
			{ service: "api", version: "1.3" },
		];
		expect(findRegressions(seen, released)).toEqual([
			{ service: "api", lastBefore: "1.0", absentIn: ["1.1", "1.2"], version: "1.3" },
		]);
	});

	it("is no regression to be seen in every version, or to stop being seen", () => {
		const all = ["1.0", "1.1", "1.2", "1.3"].map((version) => ({ service: "api", version }));
		expect(findRegressions(all, released)).toEqual([]);
		expect(findRegressions(all.slice(0, 2), released)).toEqual([]);
		// First seen late: nothing to regress from.
		expect(findRegressions([{ service: "api", version: "1.2" }], released)).toEqual([]);
	});

	it("keeps services apart", () => {
		const seen = [
			{ service: "api", version: "1.1" },
			{ service: "web", version: "7" },
		];
		expect(findRegressions(seen, released)).toEqual([]);
	});
});
