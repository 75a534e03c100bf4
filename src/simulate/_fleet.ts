import { deploymentAt, type Host, loadAt, makeHosts, REGRESSION } from "./_hosts.js";
import { Dice } from "./_random.js";
import { rewriteText } from "./_rewrite.js";
import { SourceIndex } from "./_sources.js";
import type {
	SimulatedCrash,
	SimulatedFleet,
	SimulatedHeartbeat,
	SimulateOptions,
} from "./_types.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Ordinary crashes per host-hour at full load: about one a host every two days.
const ORDINARY_RATE = 0.07;
// Extra crashes per host-hour at full load of the release with the regression.
const REGRESSION_RATE = 0.08;
// Recovered panics per fleet-hour at full load before the fix, times the day's factor.
const RECOVERED_RATE = 16;
// The chance that a recovered panic on an arm64 host is followed by a split-SP crash there.
const SPLIT_AFTER_RECOVERED = 0.07;
// Split-SP crashes a day from everything else: a few early, 30 at the end of the history.
const SPLIT_FIRST = 0.5;
const SPLIT_LAST = 30;

interface Pending {
	readonly at: number;
	readonly host: Host;
	readonly text: string;
	readonly kind: "fatal" | "recovered";
}

/**
 * A fleet of hosts on amd64 and arm64 running several services whose releases roll out over the
 * weeks: ordinary crashes of every service on both architectures, the arm64 split-SP crashes on
 * arm64 hosts only, and recovered panics that raise the split-SP rate until a fix ends them.
 */
export function simulateFleet(options: SimulateOptions): SimulatedFleet {
	const dice = new Dice(options.seed ?? 1);
	const days = options.days ?? 21;
	const end = Math.floor(options.end / HOUR) * HOUR;
	const start = end - days * DAY;
	const index = new SourceIndex(options.sources);
	const hosts = makeHosts(dice, options.hosts ?? 300, start, days, index);
	const arm = hosts.filter((h) => h.goarch === "arm64");
	// The fix of the panic/recover error handling: 40% into the history, at a day's start.
	const fix = start + Math.max(1, Math.round(days * 0.4)) * DAY;
	const dayFactor = Array.from({ length: days }, () =>
		Math.min(3, Math.max(0.2, Math.exp(0.9 * dice.normal()))),
	);
	const pending: Pending[] = [];
	const heartbeats: { at: number; beat: SimulatedHeartbeat }[] = [];
	const fatal = (at: number, host: Host, text: string) => {
		if (at < end) pending.push({ at, host, text, kind: "fatal" });
	};
	const loads = new Float64Array(hosts.length);
	const armLoads = new Float64Array(arm.length);
	for (let t = start; t < end; t += HOUR) {
		const day = Math.floor((t - start) / DAY);
		let total = 0;
		for (const [i, host] of hosts.entries()) {
			const load = loadAt(host, t);
			loads[i] = load;
			total += load;
			const deployment = deploymentAt(host, t);
			const beatAt = t + host.minute * MINUTE + dice.int(MINUTE);
			const running = deploymentAt(host, beatAt);
			heartbeats.push({
				at: beatAt,
				beat: {
					host: host.name,
					time: iso(beatAt),
					service: host.service,
					version: running.version,
					attributes: running.attributes,
				},
			});
			for (let n = dice.poisson(ORDINARY_RATE * load); n > 0; n--) {
				const at = t + dice.int(HOUR);
				const d = deploymentAt(host, at);
				const source = index.ordinary(dice, host.goarch, d.goVersion, host.traceback, host.bugs, 4);
				fatal(at, host, source.text);
			}
			if (host.service === REGRESSION.service && deployment.version === REGRESSION.version) {
				for (let n = dice.poisson(REGRESSION_RATE * load); n > 0; n--) {
					const at = t + dice.int(HOUR);
					const d = deploymentAt(host, at);
					const source = index.scenario(
						host.goarch,
						d.goVersion,
						REGRESSION.scenario,
						host.traceback,
					);
					if (d.version === REGRESSION.version && source !== undefined)
						fatal(at, host, source.text);
				}
			}
		}
		const meanLoad = total / hosts.length;
		if (t < fix) {
			for (let n = dice.poisson(RECOVERED_RATE * meanLoad * (dayFactor[day] ?? 1)); n > 0; n--) {
				const host = hosts[pickIndex(dice, loads, total)] as Host;
				const at = t + dice.int(HOUR);
				const text = index.recovered(dice, host.goarch, deploymentAt(host, at).goVersion);
				if (text === null) continue;
				pending.push({ at, host, text, kind: "recovered" });
				if (host.goarch === "arm64" && dice.float() < SPLIT_AFTER_RECOVERED) {
					const later = at + dice.int(40 * MINUTE);
					fatal(later, host, index.split(dice, deploymentAt(host, later).goVersion));
				}
			}
		}
		if (arm.length === 0) continue;
		let armTotal = 0;
		for (const [i, host] of arm.entries()) {
			armLoads[i] = loadAt(host, t);
			armTotal += armLoads[i] as number;
		}
		const progress = (t - start) / (end - start);
		const ramp = Math.max(0, (progress - 0.3) / 0.7) ** 1.3;
		const perDay = SPLIT_FIRST + (SPLIT_LAST - SPLIT_FIRST) * ramp;
		// Spread over the day as load is: mean load over a day is about 0.6.
		for (let n = dice.poisson(((perDay / 24) * meanLoad) / 0.6); n > 0; n--) {
			const host = arm[pickIndex(dice, armLoads, armTotal)] as Host;
			const at = t + dice.int(HOUR);
			fatal(at, host, index.split(dice, deploymentAt(host, at).goVersion));
		}
	}
	pending.sort((a, b) => a.at - b.at);
	heartbeats.sort((a, b) => a.at - b.at);
	const crashes = pending.map((p): SimulatedCrash => {
		const d = deploymentAt(p.host, p.at);
		return {
			text: rewriteText(p.text, dice),
			kind: p.kind,
			time: iso(p.at),
			host: p.host.name,
			service: p.host.service,
			version: d.version,
			attributes: d.attributes,
		};
	});
	return { crashes, heartbeats: heartbeats.map((h) => h.beat) };
}

function iso(t: number): string {
	return new Date(t).toISOString();
}

// An index drawn with probability weights[i] / total.
function pickIndex(dice: Dice, weights: Float64Array, total: number): number {
	let r = dice.float() * total;
	for (let i = 0; i < weights.length; i++) {
		r -= weights[i] as number;
		if (r < 0) return i;
	}
	return weights.length - 1;
}
