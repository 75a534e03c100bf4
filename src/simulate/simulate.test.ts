import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCrashes } from "../traceback/index.js";
import { recoveredText, rewriteText, type SourceText, simulateFleet } from "./index.js";

const FIXTURES = join(import.meta.dirname, "../../test/fixtures");

function sources(): SourceText[] {
	const out: SourceText[] = [];
	const add = (dir: string, splitSP: boolean) => {
		for (const name of readdirSync(dir).filter((n) => n.endsWith(".txt"))) {
			const meta = JSON.parse(
				readFileSync(join(dir, name.replace(/\.txt$/, ".meta.json")), "utf8"),
			);
			out.push({
				name,
				text: readFileSync(join(dir, name), "utf8"),
				goarch: meta.goarch,
				goVersion: meta.goVersion,
				scenario: meta.scenario,
				splitSP,
			});
		}
	};
	for (const d of readdirSync(join(FIXTURES, "crashes")).filter((d) => d.startsWith("go")))
		add(join(FIXTURES, "crashes", d), false);
	add(join(FIXTURES, "diagnose/split-sp"), true);
	return out;
}

const all = sources();
const END = Date.UTC(2026, 11, 1);
const fleet = simulateFleet({ sources: all, end: END, seed: 7 });

describe("simulateFleet", () => {
	it("makes the same fleet from the same seed, another from another", () => {
		const again = simulateFleet({ sources: all, end: END, seed: 7 });
		expect(again.crashes.map((c) => c.text)).toEqual(fleet.crashes.map((c) => c.text));
		const other = simulateFleet({ sources: all, end: END, seed: 8 });
		expect(other.crashes.map((c) => c.text)).not.toEqual(fleet.crashes.map((c) => c.text));
	});

	it("has hundreds of hosts reporting every hour for three weeks", () => {
		const hosts = new Set(fleet.heartbeats.map((h) => h.host));
		expect(hosts.size).toBe(300);
		expect(fleet.heartbeats.length).toBe(300 * 21 * 24);
		expect(fleet.crashes.length).toBeGreaterThan(3000);
		expect(
			fleet.crashes.every(
				(c) => Date.parse(c.time) < END && Date.parse(c.time) >= END - 21 * 86_400_000,
			),
		).toBe(true);
	});

	it("puts split-SP crashes on arm64 hosts only, across services and regions", () => {
		const split = fleet.crashes.filter((c) => c.cause === "split-sp");
		expect(split.length).toBeGreaterThan(100);
		expect(split.every((c) => c.attributes.goarch === "arm64")).toBe(true);
		expect(new Set(split.map((c) => c.service)).size).toBeGreaterThanOrEqual(3);
		const armRegions = new Set(
			fleet.heartbeats
				.filter((h) => h.attributes.goarch === "arm64")
				.map((h) => h.attributes.region),
		);
		expect(new Set(split.map((c) => c.attributes.region))).toEqual(armRegions);
		const ordinary = fleet.crashes.filter((c) => c.kind === "fatal" && c.cause !== "split-sp");
		expect(new Set(ordinary.map((c) => c.attributes.goarch))).toEqual(new Set(["arm64", "amd64"]));
	});

	it("busier by day than by night", () => {
		const byHour = new Array<number>(24).fill(0);
		for (const c of fleet.crashes)
			byHour[new Date(c.time).getUTCHours()] = (byHour[new Date(c.time).getUTCHours()] ?? 0) + 1;
		expect((byHour[15] ?? 0) + (byHour[14] ?? 0)).toBeGreaterThan(
			1.5 * ((byHour[3] ?? 0) + (byHour[2] ?? 0)),
		);
	});

	it("sends texts that parse like the real ones they were made from, but are not copies", () => {
		const texts = new Set<string>();
		for (const source of all) {
			const rewritten = rewriteText(source.text, 0.37);
			texts.add(rewritten);
			const a = parseCrashes(source.text);
			const b = parseCrashes(rewritten);
			expect(
				b.crashes.map((c) => [
					c.kind,
					c.message?.replace(/0x[0-9a-f]+|\d+/g, "N"),
					c.goroutines.length,
				]),
				source.name,
			).toEqual(
				a.crashes.map((c) => [
					c.kind,
					c.message?.replace(/0x[0-9a-f]+|\d+/g, "N"),
					c.goroutines.length,
				]),
			);
			expect(b.issues.length).toBe(a.issues.length);
		}
		const split = all.find((s) => s.splitSP) as SourceText;
		expect(rewriteText(split.text, 0.37)).not.toBe(split.text);
		expect(rewriteText(split.text, 0.37).match(/pc=0x[0-9a-f]+/g)).toEqual(
			split.text.match(/pc=0x[0-9a-f]+/g),
		);
	});

	it("reports a recovered panic as its value and the stack of the goroutine that panicked", () => {
		const source = all.find(
			(s) => s.scenario === "custom-error" && s.goVersion === "go1.24.4",
		) as SourceText;
		const text = recoveredText(source.text);
		const parsed = parseCrashes(text);
		expect(parsed.crashes.length).toBe(1);
		expect(parsed.crashes[0]?.message).toMatch(/^panic: /);
		expect(parsed.crashes[0]?.goroutines.length).toBe(1);
	});
});
