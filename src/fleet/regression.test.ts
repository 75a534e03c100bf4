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
				exposure: "newest",
			},
		]);
	});

	it("weighs each version by the host-hours it ran when the heartbeats give them", () => {
		// The same bucket: 14 crashes in 1.0 and 1.3. By the time each was the newest, 14 were
		// expected in 1.1 and 1.2; but 1.1 went to a few hosts only and 1.2 was rolled back, so
		// the fleet ran them for 20 and 30 host-hours against 1.0's and 1.3's 700 and 700.
		const seen = [
			{ service: "api", version: "1.0", count: 7 },
			{ service: "api", version: "1.3", count: 7 },
		];
		const ran = { "1.0": 700, "1.1": 20, "1.2": 30, "1.3": 700 } as Record<string, number>;
		const withHours = released.map((r) => ({ ...r, hostHours: ran[r.version] ?? 100 }));
		// 14 crashes in 1,400 host-hours: 0.5 expected in 50, which is no evidence.
		expect(findRegressions(seen, withHours, NOW)).toEqual([]);
		// Had 1.1 and 1.2 run as much as the others, their having none would count.
		const busy = released.map((r) => ({ ...r, hostHours: 700 }));
		expect(findRegressions(seen, busy, NOW)).toEqual([
			{
				service: "api",
				lastBefore: "1.0",
				absentIn: ["1.1", "1.2"],
				version: "1.3",
				expectedInAbsence: 14,
				exposure: "host-hours",
			},
		]);
		// A version without heartbeats leaves the service to the time model.
		const partly = withHours.map((r) => (r.version === "1.2" ? { ...r, hostHours: 0 } : r));
		expect(findRegressions(seen, partly, NOW)[0]?.exposure).toBe("newest");
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
