import { isDeepStrictEqual } from "node:util";
import { expect, test } from "vitest";
import { type Fixture, listCrashFixtures, projectResult } from "../../test/_fixtures.js";
import { parseCrashes } from "./index.js";

// What log pipelines do to crash text (see test/fixtures/crashes/README.md): each distortion,
// applied to every real fixture, must parse to the same crashes, goroutines and races.
const distortions: Record<string, (lines: string[]) => string[]> = {
	"Go log timestamps": (lines) =>
		lines.map((l, i) => `2024/05/01 10:00:${pad(i % 60)}.123456 ${l}`),
	"RFC 3339 timestamps": (lines) =>
		lines.map((l, i) => `2024-05-01T10:00:${pad(i % 60)}.123456789+02:00 ${l}`),
	journald: (lines) => lines.map((l) => `Nov 22 10:00:00 host-1 billing-api[1234]: ${l}`),
	"Kubernetes CRI": (lines) => lines.map((l) => `2024-05-01T10:00:00.123456789Z stderr F ${l}`),
	"Kubernetes CRI with partial lines": (lines) =>
		lines.flatMap((l) => {
			const ts = "2024-05-01T10:00:00.123456789Z stdout";
			const cut = Math.floor(l.length / 2);
			return l.length < 8
				? [`${ts} F ${l}`]
				: [`${ts} P ${l.slice(0, cut)}`, `${ts} F ${l.slice(cut)}`];
		}),
	"Docker JSON lines": (lines) =>
		lines.map((l) =>
			JSON.stringify({ log: `${l}\n`, stream: "stderr", time: "2024-05-01T10:00:00.1Z" }),
		),
	"lost indentation": (lines) => lines.map((l) => l.trimStart()),
	"tabs as spaces": (lines) => lines.map((l) => l.replaceAll("\t", "    ")),
	"lost blank lines": (lines) => lines.filter((l) => l.trim() !== ""),
	"CRLF line ends": (lines) => lines.map((l) => `${l}\r`),
	"interleaved log lines": (lines) =>
		lines.flatMap((l, i) =>
			// After file lines of frames, where another thread's output lands mid-dump.
			/^\t.*:\d+( \+0x[0-9a-f]+)?( fp=\S+ sp=\S+ pc=\S+)?$/.test(l) && i % 7 === 3
				? [l, `level=info msg="request served" path=/v1/items/${i}`]
				: [l],
		),
	"journald, no indentation, CRLF": (lines) =>
		lines.map((l) => `Nov 22 10:00:00 host-1 api[77]: ${l.trimStart()}\r`),
};

const fixtures = listCrashFixtures();

// Some fixtures cannot survive a second distortion, and must parse differently:
// - without indentation, a panic value line that reads like a goroutine header (crashgen's
//   panic-multiline) cannot be told from a real one; without blank lines neither, before go1.23,
//   which did not indent value lines; and tabs inside a value turn into spaces;
// - log-interleaved is already distorted: another thread's output cut into Go's lines, repaired
//   by where the cut lines end, which reindenting or dropping blank lines moves.
const fakeHeader = (f: Fixture) => valuesMatch(f, /\n\s*goroutine \d+ \[/);
const unrepairable: Record<string, (f: Fixture) => boolean> = {
	"lost indentation": fakeHeader,
	"journald, no indentation, CRLF": fakeHeader,
	"lost blank lines": (f) => fakeHeader(f) && !/^go1\.(2[3-9]|[3-9]\d)/.test(f.meta.goVersion),
	"tabs as spaces": (f) => valuesMatch(f, /\t/),
};

function valuesMatch(fixture: Fixture, pattern: RegExp): boolean {
	return parseCrashes(fixture.text).crashes.some((c) =>
		c.panics.some((p) => pattern.test(p.value)),
	);
}

// One test per distortion over all fixtures (a test per pair would be over ten thousand).
test.each(Object.entries(distortions))("%s", (name, distort) => {
	const skip = unrepairable[name];
	const cases = fixtures.filter(
		(f) =>
			!(skip?.(f) ?? false) &&
			(f.meta.expect?.interleavedWith === undefined || name === "interleaved log lines"),
	);
	expect(cases.length).toBeGreaterThan(fixtures.length * 0.9);
	const differing = cases.filter((fixture) => {
		const lines = fixture.text.split("\n");
		const last = lines.pop();
		const distorted = `${distort(lines).join("\n")}\n${last ?? ""}`;
		return !isDeepStrictEqual(
			projectResult(parseCrashes(distorted)),
			projectResult(parseCrashes(fixture.text)),
		);
	});
	expect(differing.map((f) => f.name)).toEqual([]);
});

function pad(n: number): string {
	return String(n).padStart(2, "0");
}
