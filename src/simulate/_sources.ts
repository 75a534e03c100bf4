import type { Dice } from "./_random.js";
import { recoveredText } from "./_rewrite.js";
import type { SourceText } from "./_types.js";

// How often each crashgen scenario (test/fixtures/crashes/README.md) happens in the fleet, in
// relative terms: the common programming errors first. Scenarios left out do not happen in
// production services: race reports (-race builds, amd64 only), cgo, interleaved C logging,
// init panics and the deliberate oddities of the generator.
const ORDINARY: Readonly<Record<string, number>> = {
	"nil-pointer": 12,
	"index-out-of-range": 8,
	"concurrent-map-writes": 7,
	"out-of-memory": 5,
	"slice-bounds": 5,
	"http-panic": 5,
	"type-assertion": 4,
	"nil-map-write": 4,
	"goroutine-panic": 4,
	"custom-error": 3,
	"panic-errorf": 3,
	deadlock: 2,
	"close-closed-channel": 2,
	"concurrent-map-read-write": 2,
	"stack-overflow": 1.5,
	"divide-by-zero": 1,
	"concurrent-map-iteration-write": 1,
	"sync-unlock-unlocked": 1,
	"makeslice-len": 1,
	"frames-variety": 1,
	"many-goroutines": 1,
	"log-before-panic": 1,
	"nil-func-call": 0.5,
	"fatal-during-panic": 0.5,
	"panic-custom-string": 0.5,
	"panic-custom-int": 0.5,
	"panic-struct-value": 0.5,
	"panic-pointer-value": 0.5,
	"panic-recovered-repanic": 0.5,
	"locked-thread-panic": 0.5,
	"blocked-states": 0.5,
	"fault-address": 0.3,
	"panic-nested": 0.3,
	"panic-nil-error": 0.3,
	sigquit: 0.2,
	"error-method-panics": 0.2,
	"goexit-deferred-panic": 0.2,
};

// The panics the old error handling raised and recovered: its own error values mostly.
const RECOVERED: Readonly<Record<string, number>> = {
	"custom-error": 5,
	"panic-errorf": 5,
	"type-assertion": 2,
	"index-out-of-range": 2,
	"panic-custom-string": 1,
	"nil-map-write": 1,
	"slice-bounds": 1,
};

/** A GOTRACEBACK level as the fixture names spell it (none: `single`). */
export type TracebackLevel = "single" | "all" | "system";

function levelOf(name: string): string {
	return /\.(all|system|crash)\.txt$/.exec(name)?.[1] ?? "single";
}

/** The source texts sorted for quick choice by architecture, toolchain and kind of crash. */
export class SourceIndex {
	readonly #ordinary = new Map<string, SourceText[]>();
	readonly #split = new Map<string, SourceText[]>();
	readonly #recovered = new Map<string, { scenario: string; text: string }[]>();
	/** Toolchains with ordinary texts on both architectures, oldest first; those with split-SP texts, when any. */
	readonly toolchains: readonly string[];

	constructor(sources: readonly SourceText[]) {
		for (const s of sources) {
			const key = `${s.goarch}/${s.goVersion}`;
			if (s.splitSP) {
				if (s.goarch === "arm64") push(this.#split, s.goVersion, s);
				continue;
			}
			if (!(s.scenario in ORDINARY)) continue;
			push(this.#ordinary, key, s);
			if (s.scenario in RECOVERED && levelOf(s.name) === "single") {
				const text = recoveredText(s.text);
				if (text !== null) push(this.#recovered, key, { scenario: s.scenario, text });
			}
		}
		const both = [...new Set(sources.map((s) => s.goVersion))]
			.filter((v) => this.#ordinary.has(`amd64/${v}`) && this.#ordinary.has(`arm64/${v}`))
			.sort(compareGoVersions);
		if (both.length === 0)
			throw new Error(
				"simulateFleet: the sources hold no toolchain with crash texts for both amd64 and arm64",
			);
		if (this.#split.size === 0)
			throw new Error("simulateFleet: the sources hold no arm64 split-SP crash text");
		const withSplit = both.filter((v) => this.#split.has(v));
		this.toolchains = withSplit.length > 0 ? withSplit : both;
	}

	/** An ordinary crash of a host, its service's own bugs `boost` times as likely, at its GOTRACEBACK level. */
	ordinary(
		dice: Dice,
		goarch: string,
		goVersion: string,
		level: TracebackLevel,
		bugs: readonly string[],
		boost: number,
	): SourceText {
		const all = this.#ordinary.get(`${goarch}/${goVersion}`) ?? [];
		const scenario = dice.weighted(
			[...new Set(all.map((s) => s.scenario))],
			(s) => (ORDINARY[s] ?? 0) * (bugs.includes(s) ? boost : 1),
		);
		return this.scenario(goarch, goVersion, scenario, level) as SourceText;
	}

	/** The text of one scenario at the level, else at the default level, else any; undefined when absent. */
	scenario(
		goarch: string,
		goVersion: string,
		scenario: string,
		level: TracebackLevel,
	): SourceText | undefined {
		const all = (this.#ordinary.get(`${goarch}/${goVersion}`) ?? []).filter(
			(s) => s.scenario === scenario,
		);
		return (
			all.find((s) => levelOf(s.name) === level) ??
			all.find((s) => levelOf(s.name) === "single") ??
			all[0]
		);
	}

	/** A split-SP crash of the toolchain, or of another when it has none. */
	split(dice: Dice, goVersion: string): string {
		const own = this.#split.get(goVersion) ?? [...this.#split.values()].flat();
		return dice.pick(own).text;
	}

	/** A recovered panic's report from this toolchain's panics; null when it has none. */
	recovered(dice: Dice, goarch: string, goVersion: string): string | null {
		const all = this.#recovered.get(`${goarch}/${goVersion}`);
		if (all === undefined) return null;
		return dice.weighted(all, (r) => RECOVERED[r.scenario] ?? 0).text;
	}
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
	const list = map.get(key);
	if (list === undefined) map.set(key, [value]);
	else list.push(value);
}

/** Orders `go1.9.2` before `go1.19.8` before `go1.21.13`. */
function compareGoVersions(a: string, b: string): number {
	const pa = a.replace(/^go/, "").split(".").map(Number);
	const pb = b.replace(/^go/, "").split(".").map(Number);
	for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
		const d = (pa[i] ?? 0) - (pb[i] ?? 0);
		if (d !== 0) return d;
	}
	return a < b ? -1 : a > b ? 1 : 0;
}
