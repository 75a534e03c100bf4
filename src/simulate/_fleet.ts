import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { recoveredText, rewriteText } from "./_rewrite.js";

/** A real crash text the fleet is made from, with what its meta file says. */
export interface SourceText {
	readonly name: string;
	readonly text: string;
	readonly goarch: string;
	readonly goVersion: string;
	readonly scenario: string;
	/** A crash of the arm64 split-SP compiler bug. */
	readonly splitSP: boolean;
}

/** One crash report as a host of the simulated fleet sends it. */
export interface SimulatedCrash {
	readonly text: string;
	readonly kind: "fatal" | "recovered";
	readonly time: string;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly attributes: Readonly<Record<string, string>>;
	/** What the simulator knows and the service must find out: why this crash happened. */
	readonly cause: string;
}

/** One host's hourly report that it is alive. */
export interface SimulatedHeartbeat {
	readonly host: string;
	readonly time: string;
	readonly service: string;
	readonly version: string;
	readonly attributes: Readonly<Record<string, string>>;
}

/** The size and shape of the fleet. */
export interface SimulateOptions {
	readonly sources: readonly SourceText[];
	/** The history ends here, ms since the epoch. */
	readonly end: number;
	readonly days?: number;
	readonly hosts?: number;
	readonly seed?: number;
}

/** Everything the fleet sent, in time order. */
export interface SimulatedFleet {
	readonly crashes: SimulatedCrash[];
	readonly heartbeats: SimulatedHeartbeat[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const REGIONS = ["us-east", "us-west", "eu-west", "ap-south"] as const;
const KERNELS = ["5.15.0-91-generic", "6.1.0-18", "6.8.0-45-generic"] as const;
// Each service, the Go toolchain it is built with, and the bugs of its own code.
const SERVICES = [
	{ name: "api", go: "go1.24.4", bugs: ["nil-pointer", "index-out-of-range", "http-panic"] },
	{
		name: "ingest",
		go: "go1.23.5",
		bugs: ["concurrent-map-writes", "slice-bounds", "out-of-memory"],
	},
	{ name: "search", go: "go1.25.12", bugs: ["nil-map-write", "type-assertion", "stack-overflow"] },
	{ name: "billing", go: "go1.22.12", bugs: ["deadlock", "custom-error", "divide-by-zero"] },
	{
		name: "gateway",
		go: "go1.26.10",
		bugs: ["goroutine-panic", "close-closed-channel", "nil-pointer"],
	},
] as const;
const VERSIONS = ["1.0.0", "1.1.0", "1.2.0"] as const;
// Panics the old code raised and recovered from, as its error handling.
const RECOVERED = ["custom-error", "panic-errorf", "index-out-of-range", "nil-map-write"] as const;

interface Host {
	readonly name: string;
	readonly service: (typeof SERVICES)[number];
	readonly goarch: "arm64" | "amd64";
	readonly attributes: Record<string, string>;
	/** When it moves to each of VERSIONS, ms. */
	readonly rollout: readonly number[];
	readonly minute: number;
}

/** Random numbers from one seed, so a fleet can be made again exactly. */
class Dice {
	readonly #rng;
	constructor(seed: number) {
		this.#rng = xoroshiro128plus(seed);
	}
	float(): number {
		return uniformFloat64(this.#rng);
	}
	int(n: number): number {
		return Math.floor(this.float() * n);
	}
	pick<T>(xs: readonly T[]): T {
		return xs[this.int(xs.length)] as T;
	}
	/** A Poisson count with mean `mean` (Knuth's method; the means here are small). */
	poisson(mean: number): number {
		const limit = Math.exp(-mean);
		let k = 0;
		for (let p = this.float(); p > limit; p *= this.float()) k++;
		return k;
	}
}

/** The daily pattern of load: busiest at 15:00 UTC, a third of that at night. */
function load(t: number): number {
	const hour = (t % DAY) / HOUR;
	return 0.65 + 0.35 * Math.cos(((hour - 15) / 24) * 2 * Math.PI);
}

/**
 * A fleet of hosts on arm64 and amd64, several services and versions rolled out over the weeks,
 * with ordinary crashes of each service's own bugs on both architectures, split-SP unwinder
 * crashes on arm64 only, and a recovered-panic stream that tracks them until a fix removes it.
 */
export function simulateFleet(options: SimulateOptions): SimulatedFleet {
	const dice = new Dice(options.seed ?? 1);
	const days = options.days ?? 21;
	const end = Math.floor(options.end / HOUR) * HOUR;
	const start = end - days * DAY;
	const byArch = (arch: string, splitSP: boolean) =>
		options.sources.filter((s) => s.goarch === arch && s.splitSP === splitSP);
	const split = byArch("arm64", true);
	if (split.length === 0) throw new Error("simulateFleet: no split-SP source text");
	const hosts: Host[] = Array.from({ length: options.hosts ?? 300 }, (_, i) => {
		const service = SERVICES[i % SERVICES.length] as (typeof SERVICES)[number];
		const region = REGIONS[dice.int(REGIONS.length)] as string;
		const goarch = dice.float() < 0.5 ? "arm64" : "amd64";
		const name = `${service.name}-${region}-${String(i).padStart(3, "0")}`;
		const kernel = dice.pick(KERNELS);
		return {
			name,
			service,
			goarch,
			attributes: {
				region,
				datacenter: `${region}-${dice.pick(["a", "b", "c"])}`,
				kernel: kernel.startsWith("6.1.") ? `${kernel}-${goarch}` : kernel,
				goarch,
				goVersion: service.go,
				pod: `${service.name}-${(i * 2654435761).toString(16).slice(-5)}`,
			},
			// Versions roll out over a day or two, a third and two thirds into the history.
			rollout: [
				start,
				start + (days / 3) * DAY + dice.int(2 * DAY),
				start + ((2 * days) / 3) * DAY + dice.int(2 * DAY),
			],
			minute: dice.int(60),
		};
	});
	const arm = hosts.filter((h) => h.goarch === "arm64");
	const versionAt = (h: Host, t: number): string => {
		let v: string = VERSIONS[0];
		for (const [i, at] of h.rollout.entries()) if (t >= at) v = VERSIONS[i] as string;
		return v;
	};
	const at = (t: number): string => new Date(t).toISOString();
	const sourceFor = (h: Host, scenario: string): SourceText | undefined => {
		const all = byArch(h.goarch, false).filter((s) => s.scenario === scenario);
		return all.find((s) => s.goVersion === h.service.go) ?? all[0];
	};
	const crashes: SimulatedCrash[] = [];
	const heartbeats: SimulatedHeartbeat[] = [];
	const report = (
		h: Host,
		t: number,
		text: string,
		kind: "fatal" | "recovered",
		cause: string,
	): void => {
		crashes.push({
			text: rewriteText(text, dice.float()),
			kind,
			time: at(t),
			host: h.name,
			service: h.service.name,
			version: versionAt(h, t),
			attributes: h.attributes,
			cause,
		});
	};
	// The old panic/recover error handling goes away with the fix, 40% into the history.
	const fix = start + Math.round(days * 0.4) * DAY;
	let dayNoise = 1;
	for (let t = start; t < end; t += HOUR) {
		if ((t - start) % DAY === 0) dayNoise = 0.3 + 1.4 * dice.float();
		const busy = load(t);
		for (const h of hosts) {
			heartbeats.push({
				host: h.name,
				time: at(t + h.minute * 60_000),
				service: h.service.name,
				version: versionAt(h, t),
				attributes: h.attributes,
			});
			// About one ordinary crash per host a day and a half, more when busy.
			if (dice.float() < 0.03 * busy) {
				const scenario =
					dice.float() < 0.8
						? dice.pick(h.service.bugs)
						: dice.pick(SERVICES.flatMap((s) => s.bugs));
				const source = sourceFor(h, scenario);
				if (source !== undefined) report(h, t + dice.int(HOUR), source.text, "fatal", scenario);
			}
		}
		// Before the fix, every recovered panic may leave a goroutine preempted on a split epilogue:
		// the split-SP rate follows the recovered rate. After it, split-SP crashes keep growing.
		const progress = (t - start) / (end - start);
		const intensity = busy * dayNoise;
		const recovered = t < fix ? dice.poisson(6 * intensity) : dice.poisson(0.05);
		for (let i = 0; i < recovered; i++) {
			const h = dice.pick(hosts);
			const source = sourceFor(h, dice.pick(RECOVERED));
			if (source !== undefined)
				report(h, t + dice.int(HOUR), recoveredText(source.text), "recovered", "recovered panic");
		}
		const splits = dice.poisson(
			t < fix ? 0.06 * recovered + 0.005 : ((5 + 25 * progress) / 24) * intensity,
		);
		for (let i = 0; i < splits; i++)
			report(dice.pick(arm), t + dice.int(HOUR), dice.pick(split).text, "fatal", "split-sp");
	}
	crashes.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
	return { crashes, heartbeats };
}
