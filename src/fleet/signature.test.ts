import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Crash, parseCrashes } from "../traceback/index.js";
import {
	normalizeReason,
	SIGNATURE_VERSION,
	type Signature,
	signCrash,
	signRace,
} from "./index.js";

const FIXTURES = join(import.meta.dirname, "../../test/fixtures");
const CRASHES = join(FIXTURES, "crashes");
const SPLIT_SP = join(FIXTURES, "diagnose/split-sp");
const read = (path: string): string => readFileSync(path, "utf8");
const firstCrash = (text: string): Crash => {
	const crash = parseCrashes(text).crashes[0];
	if (crash === undefined) throw new Error("no crash in the text");
	return crash;
};

interface Fixture {
	readonly toolchain: string;
	readonly arch: string;
	readonly name: string;
	/** The scenario without the GOTRACEBACK variant: `nil-pointer.all.txt` → `nil-pointer`. */
	readonly scenario: string;
	readonly text: string;
}

const fixtures: Fixture[] = readdirSync(CRASHES)
	.filter((d) => d.startsWith("go"))
	.flatMap((toolchain) =>
		readdirSync(join(CRASHES, toolchain))
			.filter((n) => n.endsWith(".txt"))
			.map((name) => ({
				toolchain,
				arch: toolchain.split("-")[1] ?? "",
				name,
				scenario: name.split(".")[0] ?? name,
				text: read(join(CRASHES, toolchain, name)),
			})),
	);

/** The same text as another run would print it: other goroutine ids, addresses, offsets and lines. */
function rewrite(text: string): string {
	return text
		.replace(/0x[0-9a-f]{6,}/g, (h) => `0x${(BigInt(h) + 0x5a3000n).toString(16)}`)
		.replace(/\+0x[0-9a-f]+/g, (h) => `+0x${(Number.parseInt(h.slice(3), 16) + 4).toString(16)}`)
		.replace(
			/(goroutine |runtime: g ?)(\d+)/g,
			(_, p: string, n: string) => `${p}${Number(n) + 40}`,
		)
		.replace(/\.go:(\d+)/g, (_, n: string) => `.go:${Number(n) + 3}`);
}

describe("signCrash over every real fixture", () => {
	const signed = fixtures.map((f) => {
		const result = parseCrashes(f.text);
		return {
			...f,
			result,
			crashes: result.crashes.map(signCrash),
			races: result.races.map(signRace),
		};
	});

	it("signs every crash and race of every fixture", () => {
		expect(fixtures.length).toBeGreaterThan(900);
		for (const f of signed) {
			expect(f.crashes.length + f.races.length, f.name).toBeGreaterThan(0);
			for (const s of [...f.crashes, ...f.races]) {
				expect(s.version).toBe(SIGNATURE_VERSION);
				expect(s.id).toMatch(/^[0-9a-f]{16}$/);
				expect(s.reason).not.toBe("");
				expect(s.title).not.toMatch(/\n/);
				expect(s.frames.length).toBeLessThanOrEqual(5);
				// Function names only: no arguments, files, line numbers or offsets.
				for (const fn of s.frames)
					expect(fn, `${f.toolchain}/${f.name}`).not.toMatch(/\.go:|\+0x|\(0x|\(\)$/);
				expect(s.why.length).toBeGreaterThanOrEqual(2);
			}
		}
	});

	it("gives one scenario one id on every toolchain, arch and GOTRACEBACK level", () => {
		const ids = new Map<string, Set<string>>();
		for (const f of signed) {
			const s = f.crashes[0] ?? f.races[0];
			if (s === undefined) continue;
			const set = ids.get(f.scenario) ?? new Set();
			set.add(s.id);
			ids.set(f.scenario, set);
		}
		const split = [...ids].filter(([, set]) => set.size > 1).map(([scenario]) => scenario);
		// Which of the two writers the runtime catches differs from run to run: func1 or func2.
		expect(split).toEqual(["concurrent-map-writes"]);
		expect(ids.get("concurrent-map-writes")?.size).toBe(2);
		expect(ids.size).toBeGreaterThan(50);
	});

	it("tells different scenarios apart, merging only panic(nil) under either GODEBUG", () => {
		const byId = new Map<string, Set<string>>();
		for (const f of signed.filter((x) => x.toolchain === "go1.26.10-amd64")) {
			const s = f.crashes[0] ?? f.races[0];
			if (s === undefined) continue;
			const set = byId.get(s.id) ?? new Set();
			set.add(f.scenario);
			byId.set(s.id, set);
		}
		const shared = [...byId.values()].filter((set) => set.size > 1).map((set) => [...set].sort());
		expect(shared).toEqual([["panic-nil", "panic-nil-error"]]);
		const id = (name: string): string =>
			signCrash(firstCrash(read(join(CRASHES, "go1.26.10-arm64", `${name}.txt`)))).id;
		const three = ["nil-pointer", "index-out-of-range", "concurrent-map-writes"].map(id);
		expect(new Set(three).size).toBe(3);
	});

	it("keeps every signature when goroutine ids, addresses, offsets and line numbers change", () => {
		let compared = 0;
		// Not log-interleaved: the rewrite changes numbers cut in two by the other thread's output,
		// and with them how the parser splices the pieces.
		for (const f of signed.filter(
			(x) => x.toolchain.startsWith("go1.2") && x.scenario !== "log-interleaved",
		)) {
			const again = parseCrashes(rewrite(f.text));
			expect(again.crashes.map(signCrash), `${f.toolchain}/${f.name}`).toEqual(f.crashes);
			expect(again.races.map(signRace), `${f.toolchain}/${f.name}`).toEqual(f.races);
			compared++;
		}
		expect(compared).toBeGreaterThan(700);
	});

	it("keys a signal sent by kill by the main goroutine, whichever thread it landed on", () => {
		for (const f of signed.filter((x) => x.scenario === "sigsegv-from-kill")) {
			expect(f.crashes[0]?.reason).toBe("SIGSEGV sent by kill");
			expect(f.crashes[0]?.frames[0]).toBe("main.selfSignal");
		}
	});

	it("classes a fault in C code the same whether Go ≤1.20 calls it a fatal error or not", () => {
		const reasons = new Set(
			signed.filter((x) => x.scenario === "cgo-sigsegv").map((f) => f.crashes[0]?.reason),
		);
		expect([...reasons]).toEqual(["SIGSEGV in C code (cgo)"]);
	});

	it("classes a fatal error during a panic by the fatal error", () => {
		const s = signed.find(
			(x) => x.toolchain === "go1.26.10-amd64" && x.name === "fatal-during-panic.txt",
		);
		expect(s?.crashes[0]?.reason).toBe("fatal error: sync: unlock of unlocked mutex");
		expect(s?.crashes[0]?.why.join(" ")).toContain("shutting down");
	});

	it("keeps a goroutine dump with a preempted goroutine out of the unwinder class", () => {
		const text = read(join(CRASHES, "go1.26.10-arm64", "sigquit.txt"));
		expect(text).toContain("runtime.asyncPreempt");
		expect(signCrash(firstCrash(text)).reason).not.toBe("unwinder failure");
	});
});

describe("signCrash on split-SP unwinder crashes", () => {
	const texts = readdirSync(SPLIT_SP)
		.filter((n) => n.endsWith(".txt"))
		.map((n) => ({ name: n, crash: firstCrash(read(join(SPLIT_SP, n))) }));
	const signatures: Signature[] = texts.map((t) => signCrash(t.crash));

	it("groups all six by the victim, whichever way the unwinder failed", () => {
		expect(texts.length).toBe(6);
		// Both forms are among them: a SIGSEGV in the unwinder, and a fatal error from it.
		expect(texts.some((t) => t.crash.fatal === null && t.crash.signal?.name === "SIGSEGV")).toBe(
			true,
		);
		expect(texts.some((t) => t.crash.fatal === "traceback did not unwind completely")).toBe(true);
		for (const s of signatures) {
			expect(s.reason).toBe("unwinder failure");
			expect(s.frames).toEqual(["main.big_stack"]);
			expect(s.why.join(" ")).toContain(
				"victim goroutine preempted in main.big_stack (split-SP shape)",
			);
		}
		expect(new Set(signatures.map((s) => s.id)).size).toBe(1);
	});

	it("groups them in one bucket of their own when no preempted goroutine was printed", () => {
		// As if only the goroutine that crashed were printed: the victim is not in the text.
		const alone = texts.map((t) => {
			const text = read(join(SPLIT_SP, t.name));
			const headers = [...text.matchAll(/^goroutine \d+ (?:gp=|\[)/gm)];
			return signCrash(firstCrash(text.slice(0, headers[1]?.index ?? text.length)));
		});
		for (const s of alone) {
			expect(s.reason).toBe("unwinder failure");
			expect(s.frames).toEqual([]);
			expect(s.title).toBe("unwinder failure: no preempted goroutine in the text");
			expect(s.why.join(" ")).toContain("grouped by the reason alone");
		}
		expect(new Set(alone.map((s) => s.id)).size).toBe(1);
		expect(alone[0]?.id).not.toBe(signatures[0]?.id);
	});

	it("picks the goroutine being scanned over other preempted ones", () => {
		// In Go 1.21's text nothing names the victim; goroutine 11 is `runnable (scan)` in
		// main.big_stack, goroutine 8 merely preempted in main.work.
		const t = texts.find((x) => x.name.startsWith("go1.21"));
		expect(t?.crash.goroutines.some((g) => g.frames[2]?.function === "main.work")).toBe(true);
		expect(signatures[texts.indexOf(t as (typeof texts)[number])]?.frames).toEqual([
			"main.big_stack",
		]);
	});
});

describe("signRace", () => {
	it("is the same whichever access is the previous one", () => {
		for (const f of fixtures.filter(
			(x) => x.toolchain === "go1.26.10-amd64" && x.scenario.startsWith("race"),
		)) {
			for (const race of parseCrashes(f.text).races) {
				const swapped = { ...race, accesses: [...race.accesses].reverse() };
				expect(signRace(swapped)).toEqual(signRace(race));
				expect(signRace(race).frames.every((fn) => fn.startsWith("main."))).toBe(true);
			}
		}
	});

	it("tells races on different variables apart", () => {
		const ids = ["race-global", "race-heap", "race-map"].map((n) => {
			const race = parseCrashes(read(join(CRASHES, "go1.26.10-amd64", `${n}.txt`))).races[0];
			if (race === undefined) throw new Error(`no race in ${n}`);
			return signRace(race).id;
		});
		expect(new Set(ids).size).toBe(3);
	});
});

describe("normalizeReason", () => {
	it.each([
		[
			"runtime error: index out of range [5] with length 3",
			"runtime error: index out of range [N] with length N",
		],
		[
			"runtime error: slice bounds out of range [:7] with capacity 2",
			"runtime error: slice bounds out of range [:N] with capacity N",
		],
		["(*main.request) 0xc000012345", "(*main.request) ADDR"],
		['open "/srv/42/a.txt": no such file', 'open "…": no such file'],
		["dial 10.0.0.7:5432: connection refused", "dial ADDR: connection refused"],
		["dial [::1]:5432: connection refused", "dial ADDR: connection refused"],
		["request 3f2a9b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c failed", "request ID failed"],
		["job 5e3c0a91ff02 failed after 1.5s", "job ID failed after Ns"],
		["worker 3: queue closed\ngoroutine 7 [fake]:", "worker N: queue closed"],
		["nil", "panic called with nil argument"],
		["main.sha256sum failed", "main.sha256sum failed"],
	])("%j", (text, want) => {
		expect(normalizeReason(text)).toBe(want);
	});
});
