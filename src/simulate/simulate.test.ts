import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCrashes } from "../traceback/index.js";
import { Dice } from "./_random.js";
import { recoveredText, rewriteText } from "./_rewrite.js";
import { type SimulatedCrash, type SourceText, simulateFleet } from "./index.js";

const FIXTURES = join(import.meta.dirname, "../../test/fixtures");
const DAY = 86_400_000;

// The fixtures as the CLI hands them over: every text with what its meta file says.
function readSources(): SourceText[] {
	const out: SourceText[] = [];
	const add = (dir: string, splitSP: boolean) => {
		for (const file of readdirSync(join(FIXTURES, dir))
			.filter((n) => n.endsWith(".txt"))
			.sort()) {
			const meta = JSON.parse(
				readFileSync(join(FIXTURES, dir, file.replace(/\.txt$/, ".meta.json")), "utf8"),
			);
			out.push({
				name: `${dir}/${file}`,
				text: readFileSync(join(FIXTURES, dir, file), "utf8"),
				goarch: meta.goarch,
				goVersion: meta.goVersion,
				scenario: meta.scenario,
				splitSP,
			});
		}
	};
	for (const d of readdirSync(join(FIXTURES, "crashes"))
		.filter((d) => d.startsWith("go"))
		.sort())
		add(`crashes/${d}`, false);
	add("diagnose/split-sp", true);
	return out;
}

const sources = readSources();
const END = Date.UTC(2026, 11, 1);
const START = END - 21 * DAY;
const fleet = simulateFleet({ sources, end: END, seed: 7 });
// The split-SP reproducer's victim: no crashgen scenario has a function of that name.
const isSplit = (c: SimulatedCrash) => c.text.includes("main.big_stack(");
const split = fleet.crashes.filter(isSplit);
const recovered = fleet.crashes.filter((c) => c.kind === "recovered");
const ordinary = fleet.crashes.filter((c) => c.kind === "fatal" && !isSplit(c));

function perDay(crashes: readonly SimulatedCrash[]): number[] {
	const days = new Array<number>(21).fill(0);
	for (const c of crashes) {
		const d = Math.floor((Date.parse(c.time) - START) / DAY);
		days[d] = (days[d] ?? 0) + 1;
	}
	return days;
}

function pearson(xs: readonly number[], ys: readonly number[]): number {
	const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
	const mx = mean(xs);
	const my = mean(ys);
	let sxy = 0;
	let sxx = 0;
	let syy = 0;
	for (const [i, x] of xs.entries()) {
		const y = ys[i] as number;
		sxy += (x - mx) * (y - my);
		sxx += (x - mx) ** 2;
		syy += (y - my) ** 2;
	}
	return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

describe("simulateFleet", () => {
	it("makes the same fleet from the same seed, another from another", () => {
		const again = simulateFleet({ sources, end: END, seed: 7 });
		expect(again.crashes).toEqual(fleet.crashes);
		expect(again.heartbeats.length).toBe(fleet.heartbeats.length);
		for (let i = 0; i < fleet.heartbeats.length; i += 997)
			expect(again.heartbeats[i]).toEqual(fleet.heartbeats[i]);
		const other = simulateFleet({ sources, end: END, seed: 8 });
		expect(other.crashes.map((c) => c.text)).not.toEqual(fleet.crashes.map((c) => c.text));
	});

	it("has 300 hosts, each sending one heartbeat an hour for three weeks, and thousands of crashes", () => {
		expect(fleet.heartbeats.length).toBe(300 * 24 * 21);
		const perHost = new Map<string, Set<number>>();
		for (const h of fleet.heartbeats) {
			const hours = perHost.get(h.host) ?? new Set();
			hours.add(Math.floor((Date.parse(h.time) - START) / 3_600_000));
			perHost.set(h.host, hours);
		}
		expect(perHost.size).toBe(300);
		for (const hours of perHost.values()) expect(hours.size).toBe(24 * 21);
		expect(fleet.crashes.length).toBeGreaterThan(5000);
		expect(fleet.crashes.length).toBeLessThan(20_000);
		const times = fleet.crashes.map((c) => Date.parse(c.time));
		expect(times.every((t, i) => t >= START && t < END && t >= (times[i - 1] ?? 0))).toBe(true);
		expect(fleet.crashes[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
	});

	it("runs half the hosts on arm64, several services and releases, in regions whose attributes say nothing of GOARCH", () => {
		const hosts = new Map(fleet.heartbeats.map((h) => [h.host, h]));
		const arm = [...hosts.values()].filter((h) => h.attributes.goarch === "arm64");
		expect(arm.length).toBeGreaterThanOrEqual(140);
		expect(arm.length).toBeLessThanOrEqual(160);
		const services = new Set(fleet.heartbeats.map((h) => h.service));
		expect(services.size).toBeGreaterThanOrEqual(4);
		for (const service of services) {
			const versions = new Set(
				fleet.heartbeats.filter((h) => h.service === service).map((h) => h.version),
			);
			expect(versions.size, service).toBeGreaterThanOrEqual(2);
		}
		for (const attribute of ["region", "datacenter", "kernel"]) {
			const values = new Set([...hosts.values()].map((h) => h.attributes[attribute]));
			expect(values.size, attribute).toBeGreaterThanOrEqual(3);
			for (const value of values)
				for (const goarch of ["amd64", "arm64"])
					expect(
						[...hosts.values()].some(
							(h) => h.attributes[attribute] === value && h.attributes.goarch === goarch,
						),
						`${attribute}=${value} on ${goarch}`,
					).toBe(true);
		}
	});

	it("sends each host's texts rewritten from a real text of its own toolchain and architecture", () => {
		// What a rewrite leaves: everything but numbers and wait minutes.
		const skeleton = (text: string) =>
			text.replace(/, \d+ minutes(?=[\],])/g, "").replace(/0x[0-9a-f]+|\d+/g, "#");
		const made = new Map<string, Set<string>>();
		for (const s of sources)
			for (const text of [s.text, recoveredText(s.text)]) {
				if (text === null) continue;
				const key = skeleton(text);
				made.set(key, (made.get(key) ?? new Set()).add(`${s.goarch}/${s.goVersion}`));
			}
		for (const c of fleet.crashes)
			expect(
				made.get(skeleton(c.text))?.has(`${c.attributes.goarch}/${c.attributes.goVersion}`),
			).toBe(true);
	});

	it("puts split-SP crashes on arm64 hosts only, over every service and region that runs arm64", () => {
		expect(split.length).toBeGreaterThan(150);
		expect(split.every((c) => c.attributes.goarch === "arm64" && c.kind === "fatal")).toBe(true);
		const armBeats = fleet.heartbeats.filter((h) => h.attributes.goarch === "arm64");
		expect(new Set(split.map((c) => c.service))).toEqual(new Set(armBeats.map((h) => h.service)));
		expect(new Set(split.map((c) => c.service)).size).toBeGreaterThanOrEqual(3);
		expect(new Set(split.map((c) => c.attributes.region))).toEqual(
			new Set(armBeats.map((h) => h.attributes.region)),
		);
		for (const goarch of ["amd64", "arm64"])
			expect(
				new Set(ordinary.filter((c) => c.attributes.goarch === goarch).map((c) => c.service)),
			).toEqual(new Set(fleet.heartbeats.map((h) => h.service)));
		const scenarios = new Set(ordinary.map((c) => parseCrashes(c.text).crashes[0]?.message));
		expect(scenarios.size).toBeGreaterThan(5);
	});

	it("has a few split-SP crashes a day early and about 30 a day at the end", () => {
		const days = perDay(split);
		const first = days.slice(0, 7).reduce((s, x) => s + x, 0) / 7;
		expect(first).toBeGreaterThan(2);
		expect(first).toBeLessThan(15);
		const last = days.slice(-3).reduce((s, x) => s + x, 0) / 3;
		expect(last).toBeGreaterThan(15);
		expect(last).toBeLessThan(45);
	});

	it("tracks the recovered-panic rate with the split-SP rate by day until the fix, and not after", () => {
		const r = perDay(recovered);
		const s = perDay(split);
		const fix = r.indexOf(0);
		expect(fix).toBeGreaterThanOrEqual(7);
		expect(fix).toBeLessThanOrEqual(10);
		expect(pearson(r.slice(0, fix), s.slice(0, fix))).toBeGreaterThan(0.6);
		expect(r.slice(fix).every((n) => n === 0)).toBe(true);
		expect(s.slice(fix).every((n) => n > 0)).toBe(true);
		// Ordinary crashes do not follow the recovered panics.
		expect(pearson(r.slice(0, fix), perDay(ordinary).slice(0, fix))).toBeLessThan(0.6);
	});

	it("crashes more by day than by night, in each region's own time", () => {
		const offsets: Record<string, number> = {
			"us-east": -5,
			"us-west": -8,
			"eu-west": 1,
			"ap-southeast": 8,
		};
		const byLocalHour = new Array<number>(24).fill(0);
		for (const c of ordinary) {
			const hour =
				(new Date(c.time).getUTCHours() + (offsets[c.attributes.region ?? ""] ?? 0) + 24) % 24;
			byLocalHour[hour] = (byLocalHour[hour] ?? 0) + 1;
		}
		const sum = (from: number, to: number) =>
			byLocalHour.slice(from, to).reduce((s, x) => s + x, 0);
		expect(sum(12, 20)).toBeGreaterThan(2 * sum(0, 8));
	});

	it("has one release with a regression: a bug far more frequent than before or after it", () => {
		const rate = (version: string) =>
			ordinary.filter(
				(c) =>
					c.service === "cache" &&
					c.version === version &&
					c.text.includes("concurrent map writes"),
			).length /
			fleet.heartbeats.filter((h) => h.service === "cache" && h.version === version).length;
		expect(rate("1.9.0")).toBeGreaterThan(3 * rate("1.8.2"));
		expect(rate("1.9.0")).toBeGreaterThan(3 * rate("1.9.1"));
	});

	it("rejects sources without split-SP texts, in one sentence", () => {
		expect(() => simulateFleet({ sources: sources.filter((s) => !s.splitSP), end: END })).toThrow(
			/no arm64 split-SP crash text/,
		);
	});
});

describe("rewriteText", () => {
	const shape = (text: string) => {
		const parsed = parseCrashes(text);
		return {
			issues: parsed.issues.length,
			crashes: parsed.crashes.map((c) => ({
				kind: c.kind,
				message: c.message?.replace(/0x[0-9a-f]+|\d+/g, "#") ?? null,
				goroutines: c.goroutines.length,
				states: c.goroutines.map((g) => g.state),
			})),
		};
	};
	const hexes = (text: string) => text.match(/0x[0-9a-f]+/g) ?? [];
	const fixed = (text: string) => text.match(/(?:pc=|PC=|\+)0x[0-9a-f]+/g) ?? [];

	it("gives a text that parses like its source: crashes, kinds, messages, goroutines, issues", () => {
		const dice = new Dice(3);
		let changed = 0;
		for (const source of sources)
			for (let round = 0; round < 2; round++) {
				const text = rewriteText(source.text, dice);
				if (text !== source.text) changed++;
				expect(shape(text), source.name).toEqual(shape(source.text));
			}
		// A panic in main with no pointer in its frames prints the same in every process.
		expect(changed).toBeGreaterThan(0.9 * 2 * sources.length);
	});

	it("keeps pcs and offsets, and moves each address to one new address, by whole MiB", () => {
		const dice = new Dice(4);
		for (const source of sources) {
			const text = rewriteText(source.text, dice);
			expect(fixed(text), source.name).toEqual(fixed(source.text));
			const before = hexes(source.text);
			const after = hexes(text);
			expect(after.length, source.name).toBe(before.length);
			// Plain loops, one assertion a text: there are a million numbers to compare.
			const moved = new Map<string, string>();
			const wrong: string[] = [];
			for (const [i, hex] of before.entries()) {
				const now = after[i] as string;
				if ((moved.get(hex) ?? now) !== now) wrong.push(`${hex} moved twice`);
				moved.set(hex, now);
				if ((BigInt(now) - BigInt(hex)) % 0x100000n !== 0n) wrong.push(`${hex} → ${now}`);
				if (BigInt(hex) < 1n << 32n && now !== hex) wrong.push(`${hex} is below 4 GiB`);
			}
			expect(wrong, source.name).toEqual([]);
		}
	});

	it("renumbers goroutines after main consistently and adds wait minutes only to waiting ones", () => {
		const dice = new Dice(5);
		let minutes = 0;
		// Not log-interleaved: a C thread's output splits its headers from their ids, and the fleet
		// never sends it.
		const dumps = sources.filter(
			(s) => (s.name.includes(".all.") || s.splitSP) && s.scenario !== "log-interleaved",
		);
		for (const source of dumps) {
			const a = parseCrashes(source.text).crashes.flatMap((c) => c.goroutines);
			const b = parseCrashes(rewriteText(source.text, dice)).crashes.flatMap((c) => c.goroutines);
			expect(b.length, source.name).toBe(a.length);
			const shifts = new Set(
				a.filter((g) => (g.id ?? 0) >= 2).map((g) => (b[a.indexOf(g)]?.id ?? 0) - (g.id ?? 0)),
			);
			expect(shifts.size, source.name).toBeLessThanOrEqual(1);
			const shift = [...shifts][0] ?? 0;
			for (const [i, g] of a.entries()) {
				if ((g.id ?? 0) < 2) expect(b[i]?.id).toBe(g.id);
				const created = g.createdBy?.goroutine;
				if (created != null)
					expect(b[i]?.createdBy?.goroutine).toBe(created < 2 ? created : created + shift);
			}
			for (const g of b)
				if (g.waitMinutes !== null) {
					minutes++;
					expect(["running", "runnable"]).not.toContain(g.state);
				}
		}
		expect(minutes).toBeGreaterThan(100);
	});
});

describe("recoveredText", () => {
	it("cuts a panic's value and its goroutine's stack, as debug.Stack prints it, from a real panic", () => {
		const panics = sources.filter(
			(s) =>
				["custom-error", "panic-errorf", "type-assertion", "index-out-of-range"].includes(
					s.scenario,
				) && !/\.(all|system)\.txt$/.test(s.name),
		);
		expect(panics.length).toBeGreaterThan(40);
		for (const source of panics) {
			const text = recoveredText(source.text);
			expect(text, source.name).not.toBeNull();
			const [original] = parseCrashes(source.text).crashes;
			const parsed = parseCrashes(text as string);
			expect(parsed.crashes.length, source.name).toBe(1);
			const [crash] = parsed.crashes;
			expect(crash?.message).toBe(original?.message);
			expect(crash?.goroutines.length).toBe(1);
			expect(crash?.goroutines[0]?.state).toBe("running");
			expect(crash?.goroutines[0]?.frames).toEqual(original?.goroutines[0]?.frames);
			expect(text).toMatch(/^panic: .*\n\ngoroutine \d+ \[running\]:\n/);
		}
	});

	it("is sent by the fleet as recovered reports that parse as one panic each", () => {
		for (const c of recovered.slice(0, 300)) {
			const parsed = parseCrashes(c.text);
			expect(parsed.crashes.length).toBe(1);
			expect(parsed.crashes[0]?.goroutines.length).toBe(1);
		}
	});
});
