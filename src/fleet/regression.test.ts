import { describe, expect, it } from "vitest";
import { findRegressions, MIN_EXPECTED_IN_ABSENCE } from "./_regression.js";

const DAY = 86_400_000;
// Four releases of api a week apart, in the order they came out (listed out of order).
const released = [
	{ service: "api", version: "1.0", firstSeen: 0 },
	{ service: "api", version: "1.2", firstSeen: 14 * DAY },
	{ service: "api", version: "1.1", firstSeen: 7 * DAY },
	{ service: "api", version: "1.3", firstSeen: 21 * DAY },
	{ service: "web", version: "7", firstSeen: 0 },
];
const NOW = 28 * DAY;

describe("findRegressions", () => {
	it("finds a bucket that came back after versions without it, in release order", () => {
		// 14 crashes in the two weeks of 1.0 and 1.3: 14 expected in the two weeks of 1.1 and 1.2.
		const seen = [
			{ service: "api", version: "1.0", count: 7 },
			{ service: "api", version: "1.3", count: 7 },
		];
		expect(findRegressions(seen, released, NOW)).toEqual([
			{
				service: "api",
				lastBefore: "1.0",
				absentIn: ["1.1", "1.2"],
				version: "1.3",
				expectedInAbsence: 14,
			},
		]);
	});

	it("is no regression for a bucket too rare for its absence to mean anything", () => {
		// One crash a week: two weeks without one happen by chance.
		const rare = [
			{ service: "api", version: "1.0", count: 1 },
			{ service: "api", version: "1.3", count: 1 },
		];
		expect(findRegressions(rare, released, NOW)).toEqual([]);
		// Just enough: the expected count in the absence reaches the minimum.
		const enough = rare.map((v) => ({ ...v, count: MIN_EXPECTED_IN_ABSENCE / 2 }));
		expect(findRegressions(enough, released, NOW)[0]?.expectedInAbsence).toBe(
			MIN_EXPECTED_IN_ABSENCE,
		);
		// A version out for an hour says nothing either, whatever the rate.
		const brief = [
			{ service: "web", version: "7", firstSeen: 0 },
			{ service: "web", version: "8", firstSeen: 7 * DAY },
			{ service: "web", version: "9", firstSeen: 7 * DAY + 3_600_000 },
		];
		const web = [
			{ service: "web", version: "7", count: 20 },
			{ service: "web", version: "9", count: 20 },
		];
		expect(findRegressions(web, brief, NOW)).toEqual([]);
	});

	it("is no regression to be seen in every version, or to stop being seen", () => {
		const all = ["1.0", "1.1", "1.2", "1.3"].map((version) => ({
			service: "api",
			version,
			count: 50,
		}));
		expect(findRegressions(all, released, NOW)).toEqual([]);
		expect(findRegressions(all.slice(0, 2), released, NOW)).toEqual([]);
		// First seen late: nothing to regress from.
		expect(findRegressions([{ service: "api", version: "1.2", count: 50 }], released, NOW)).toEqual(
			[],
		);
	});

	it("keeps services apart", () => {
		const seen = [
			{ service: "api", version: "1.1", count: 50 },
			{ service: "web", version: "7", count: 50 },
		];
		expect(findRegressions(seen, released, NOW)).toEqual([]);
	});
});
