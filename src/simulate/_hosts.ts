import type { Dice } from "./_random.js";
import type { SourceIndex, TracebackLevel } from "./_sources.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A region: its datacenters, its share of the hosts, and its offset from UTC in hours. */
interface Region {
	readonly name: string;
	readonly datacenters: readonly string[];
	readonly weight: number;
	readonly utcOffset: number;
}

const REGIONS: readonly Region[] = [
	{ name: "us-east", datacenters: ["iad1", "iad2", "ewr1"], weight: 3, utcOffset: -5 },
	{ name: "us-west", datacenters: ["sjc1", "pdx1"], weight: 2, utcOffset: -8 },
	{ name: "eu-west", datacenters: ["ams1", "fra1", "lhr1"], weight: 3, utcOffset: 1 },
	{ name: "ap-southeast", datacenters: ["sin1", "syd1"], weight: 2, utcOffset: 8 },
];

// Kernels of either architecture's hosts alike, so that a kernel never stands in for GOARCH.
const KERNELS = [
	{ name: "5.15.0-119-generic", weight: 2 },
	{ name: "6.1.0-26", weight: 4 },
	{ name: "6.6.52", weight: 3 },
	{ name: "6.8.0-47-generic", weight: 1 },
] as const;

/** A service: its share of the hosts, its GOTRACEBACK, its own bugs, and its releases. */
interface Service {
	readonly name: string;
	readonly weight: number;
	readonly traceback: TracebackLevel;
	readonly port: number;
	readonly bugs: readonly string[];
	/** Each release: its version, when its rollout starts (fraction of the history), and whether it moves to the next toolchain. */
	readonly releases: readonly { version: string; at: number; newGo: boolean }[];
}

const SERVICES: readonly Service[] = [
	{
		name: "edge-proxy",
		weight: 3,
		traceback: "single",
		port: 8080,
		bugs: ["nil-pointer", "http-panic", "concurrent-map-writes"],
		releases: [
			{ version: "4.12.0", at: 0, newGo: false },
			{ version: "4.13.0", at: 0.3, newGo: true },
			{ version: "4.14.1", at: 0.72, newGo: false },
		],
	},
	{
		name: "auth",
		weight: 1.5,
		traceback: "all",
		port: 8443,
		bugs: ["type-assertion", "index-out-of-range", "panic-errorf"],
		releases: [
			{ version: "2.3.4", at: 0, newGo: false },
			{ version: "2.4.0", at: 0.55, newGo: true },
		],
	},
	{
		name: "cache",
		weight: 2,
		traceback: "single",
		port: 6380,
		bugs: ["concurrent-map-writes", "out-of-memory", "concurrent-map-read-write"],
		releases: [
			{ version: "1.8.2", at: 0, newGo: false },
			{ version: "1.9.0", at: 0.2, newGo: false },
			{ version: "1.9.1", at: 0.62, newGo: true },
		],
	},
	{
		name: "ingest",
		weight: 2,
		traceback: "system",
		port: 9000,
		bugs: ["slice-bounds", "out-of-memory", "deadlock"],
		releases: [
			{ version: "0.31.0", at: 0, newGo: false },
			{ version: "0.32.0", at: 0.45, newGo: true },
			{ version: "0.33.0", at: 0.85, newGo: false },
		],
	},
	{
		name: "billing",
		weight: 1.5,
		traceback: "single",
		port: 7070,
		bugs: ["nil-map-write", "divide-by-zero", "close-closed-channel"],
		releases: [
			{ version: "7.0.3", at: 0, newGo: false },
			{ version: "7.1.0", at: 0.38, newGo: false },
		],
	},
];

/** The release with a regression: a new bug at many times the service's usual crash rate, until the next release. */
export const REGRESSION = { service: "cache", version: "1.9.0", scenario: "concurrent-map-writes" };

/** What a host runs from one moment on. */
export interface Deployment {
	readonly from: number;
	readonly version: string;
	readonly goVersion: string;
	readonly attributes: Readonly<Record<string, string>>;
}

/** One host of the fleet: where it is, what it runs and when each release reached it. */
export interface Host {
	readonly name: string;
	readonly service: string;
	readonly traceback: TracebackLevel;
	readonly bugs: readonly string[];
	readonly goarch: "amd64" | "arm64";
	readonly region: string;
	readonly utcOffset: number;
	/** Oldest first; the first starts before the history does. */
	readonly deployments: readonly Deployment[];
	/** Minute of the hour at which it sends its heartbeat. */
	readonly minute: number;
}

/**
 * The fleet's hosts: services and regions by weight, within each service alternately amd64 and
 * arm64, each release rolled out host by host over a day, its toolchain older for the services
 * listed later (a fleet never upgrades all at once).
 */
export function makeHosts(
	dice: Dice,
	count: number,
	start: number,
	days: number,
	index: SourceIndex,
): Host[] {
	const chains = index.toolchains;
	const replicaSets = new Map<string, string>();
	const perService = new Map<string, number>();
	const hosts: Host[] = [];
	const nextService = roundRobin(SERVICES);
	for (let i = 0; i < count; i++) {
		const service = nextService();
		const nth = perService.get(service.name) ?? 0;
		perService.set(service.name, nth + 1);
		const goarch = nth % 2 === 0 ? "arm64" : "amd64";
		const region = dice.weighted(REGIONS, (r) => r.weight);
		const datacenter = dice.pick(region.datacenters);
		const kernel = dice.weighted(KERNELS, (k) => k.weight).name;
		const name = `${datacenter}-${String(i + 1).padStart(3, "0")}`;
		const serviceIndex = SERVICES.indexOf(service);
		let chain = Math.max(0, chains.length - 2 - serviceIndex);
		const deployments: Deployment[] = service.releases.map((release, r) => {
			if (release.newGo) chain = Math.min(chains.length - 1, chain + 1);
			const goVersion = chains[chain] as string;
			const rsKey = `${service.name}@${release.version}`;
			let rs = replicaSets.get(rsKey);
			if (rs === undefined) {
				rs = dice.hex(10);
				replicaSets.set(rsKey, rs);
			}
			return {
				from: r === 0 ? start - DAY : start + release.at * days * DAY + dice.float() * DAY,
				version: release.version,
				goVersion,
				attributes: {
					region: region.name,
					datacenter,
					kernel,
					pod: `${service.name}-${rs}-${dice.hex(5)}`,
					instance: `10.${20 + REGIONS.indexOf(region)}.${(i >> 8) & 255}.${i & 255}:${service.port}`,
					goarch,
					goVersion,
				},
			};
		});
		hosts.push({
			name,
			service: service.name,
			traceback: service.traceback,
			bugs: service.bugs,
			goarch,
			region: region.name,
			utcOffset: region.utcOffset,
			deployments,
			minute: dice.int(60),
		});
	}
	return hosts;
}

// Smooth weighted round-robin (as nginx balances upstreams): every prefix of the fleet holds
// each service within one host of its share.
function roundRobin(services: readonly Service[]): () => Service {
	const total = services.reduce((sum, s) => sum + s.weight, 0);
	const current = services.map(() => 0);
	return () => {
		let best = 0;
		for (let k = 0; k < services.length; k++) {
			current[k] = (current[k] as number) + (services[k] as Service).weight;
			if ((current[k] as number) > (current[best] as number)) best = k;
		}
		current[best] = (current[best] as number) - total;
		return services[best] as Service;
	};
}

/** What the host runs at `t`. */
export function deploymentAt(host: Host, t: number): Deployment {
	let current = host.deployments[0] as Deployment;
	for (const d of host.deployments) if (d.from <= t) current = d;
	return current;
}

/** The host's load at `t`, 1 at its region's busiest: lowest at 04:00 local time, a quarter less at weekends. */
export function loadAt(host: Host, t: number): number {
	const local = t + host.utcOffset * HOUR;
	const hour = (local % DAY) / HOUR;
	const weekday = new Date(local).getUTCDay();
	const daily = 0.3 + 0.7 * (0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 4)) / 24));
	return weekday === 0 || weekday === 6 ? 0.75 * daily : daily;
}
