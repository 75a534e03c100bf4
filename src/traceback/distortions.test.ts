import { describe, expect, test } from "vitest";
import { listCrashFixtures, projectResult } from "../../test/_fixtures.js";
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
			/^\t.*:\d+( \+0x[0-9a-f]+)?/.test(l) && i % 7 === 3
				? [l, `level=info msg="request served" path=/v1/items/${i}`]
				: [l],
		),
	"journald, no indentation, CRLF": (lines) =>
		lines.map((l) => `Nov 22 10:00:00 host-1 api[77]: ${l.trimStart()}\r`),
};

const fixtures = listCrashFixtures();

// Two distortions change a panic value itself, so its parse must differ: without indentation a
// value line that reads like a goroutine header (crashgen's panic-multiline) cannot be told from
// a real one, and tabs inside a value turn into spaces.
const changesValue: Record<string, RegExp> = {
	"lost indentation": /\n\s*goroutine \d+ \[/,
	"journald, no indentation, CRLF": /\n\s*goroutine \d+ \[/,
	"tabs as spaces": /\t/,
};

describe.each(Object.entries(distortions))("%s", (name, distort) => {
	const excluded = changesValue[name];
	const cases = fixtures.filter(
		(f) =>
			excluded === undefined ||
			!parseCrashes(f.text).crashes.some((c) => c.panics.some((p) => excluded.test(p.value))),
	);
	test.each(cases.map((f) => [f.name, f] as const))("%s", (_, fixture) => {
		const lines = fixture.text.split("\n");
		const last = lines.pop();
		const distorted = `${distort(lines).join("\n")}\n${last ?? ""}`;
		expect(projectResult(parseCrashes(distorted))).toEqual(
			projectResult(parseCrashes(fixture.text)),
		);
	});
});

function pad(n: number): string {
	return String(n).padStart(2, "0");
}
