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
	// A paste indented as a whole (a Markdown code block, a quote), its blank lines lost too.
	"indented as a whole": (lines) => lines.map((l) => (l === "" ? "" : `    ${l}`)),
	"indented as a whole, blank lines lost": (lines) =>
		lines.filter((l) => l.trim() !== "").map((l) => `    ${l}`),
	// moby/moby#46322's paste: a blank line after every line.
	"double spacing": (lines) => lines.flatMap((l) => [l, ""]),
	"double spacing, a prefix learned": (lines) =>
		lines.flatMap((l) => [
			`billing-api-7d9f8b6c5-xk2pq api ${l}`,
			"billing-api-7d9f8b6c5-xk2pq api ",
		]),
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
	// Known prefixes, each stripped on every line (_prefix.ts).
	"journalctl -o short-precise": (lines) =>
		lines.map(
			(l, i) =>
				`Dec 03 07:00:${pad(i % 60)}.${String(i % 997).padStart(6, "0")} host-1 billing-api[1234]: ${l}`,
		),
	"rsyslog traditional format": (lines) =>
		lines.map((l) => `Dec  3 07:00:00 host-1 billing-api[1234]: ${l}`),
	// rsyslog's default escapes control characters in octal: a frame's tab as `#011`.
	"rsyslog with control characters escaped": (lines) =>
		lines.map((l) => `Dec  3 07:00:00 host-1 billing-api[1234]: ${l.replaceAll("\t", "#011")}`),
	// `logger -t billing-api` and other senders write a tag without a pid.
	"rsyslog, a tag without a pid, control characters escaped": (lines) =>
		lines.map((l) => `Dec  3 07:00:00 host-1 billing-api: ${l.replaceAll("\t", "#011")}`),
	// A paste trims each line's end, the space after the prefix of an empty line too.
	"timestamps, trailing spaces trimmed": (lines) =>
		lines.map((l, i) => `2019-01-23T12:16:${pad(i % 60)}.203034227Z ${l}`.trimEnd()),
	"journald, trailing spaces trimmed": (lines) =>
		lines.map((l) => `Dec 03 07:00:00 host-1 billing-api[1234]: ${l}`.trimEnd()),
	"kubectl logs --prefix, trailing spaces trimmed": (lines) =>
		lines.map((l) => `[pod/billing-api-7d9f8b6c5-xk2pq/api] ${l}`.trimEnd()),
	"Go log timestamps, trailing spaces trimmed": (lines) =>
		lines.map((l) => `2024/05/01 10:00:00 ${l}`.trimEnd()),
	"GitHub Actions timestamps": (lines) =>
		lines.map((l, i) => `2024-01-01T00:00:${pad(i % 60)}.${String(1234567 + i).slice(-7)}Z ${l}`),
	"GitLab CI FF_TIMESTAMPS": (lines) =>
		lines.map((l, i) => `2024-05-30T14:30:${pad(i % 60)}.123456Z 01E ${l}`),
	"Buildkite timestamps": (lines) =>
		lines.map((l, i) => `\x1b_bk;t=${1745322209921 + i * 7}\x07${l}`),
	// A log system's CSV export (DataDog/dd-trace-go#1944's): quoted fields, the message last.
	"a CSV export": (lines) =>
		lines.map(
			(l, i) => `"2023-04-26T22:05:${pad(i % 60)}.509Z","billing-api","${l.replaceAll('"', '""')}"`,
		),
	// Android's logcat: the runtime writes under the tag `Go`, one entry per line.
	"Android logcat": (lines) =>
		lines.map(
			(l, i) =>
				`12-01 12:31:${pad(i % 60)}.${String(i % 1000).padStart(3, "0")}  2674  2690 E Go      : ${l}`,
		),
	"Android logcat -v time": (lines) =>
		lines.map((l) => `02-12 15:07:44.321 E/Go      ( 2674): ${l}`),
	"Android logcat -v brief": (lines) => lines.map((l) => `E/Go      ( 2674): ${l}`),
	"Android logcat, trailing spaces trimmed": (lines) =>
		lines.map((l) => `02-12 15:07:44.321  2674  2690 E Go      : ${l}`.trimEnd()),
	"kubectl logs --prefix": (lines) =>
		lines.map((l) => `[pod/billing-api-7d9f8b6c5-xk2pq/api] ${l}`),
	// docker compose v2: `%-*s |` (the name padded to the longest service's), then a space.
	"docker compose": (lines) => lines.map((l) => `billing-api-1  | ${l}`),
	"docker compose v1": (lines) => lines.map((l) => `svc_billing_1   | ${l}`),
	"docker compose on a terminal": (lines) =>
		lines.map((l) => `\x1b[36;1mbilling-api-1  |\x1b[0m ${l}`),
	"docker compose with timestamps": (lines) =>
		lines.map((l, i) => `api-1  | 2024-01-01T00:00:${pad(i % 60)}.${i}Z ${l}`),
	// Prefixes no recogniser knows, learned from the report's own lines (_shape.ts).
	"stern: pod and container": (lines) => lines.map((l) => `billing-api-7d9f8b6c5-xk2pq api ${l}`),
	// stern's default template on a terminal: pod and container names each in their colour.
	"stern on a terminal": (lines) =>
		lines.map((l) => `\x1b[32mbilling-api-7d9f8b6c5-xk2pq\x1b[0m \x1b[33mapi\x1b[0m ${l}`),
	"docker compose with a container_name": (lines) => lines.map((l) => `billing  | ${l}`),
	// moby/moby#35186: syslog's tag without a pid, before lines whose indentation was lost.
	"a learned prefix, no indentation": (lines) =>
		lines.map((l) => `service-prd96-15 dockerd: ${l.trimStart()}`),
	"systemd unit without a pid": (lines) =>
		lines.map((l) => `Dec 03 07:00:00 host-1 billing-api.service: ${l}`),
	"supervisord program prefix": (lines) => lines.map((l) => `[program:billing] stderr | ${l}`),
	"a prefix whose width varies line by line": (lines) =>
		lines.map(
			(l, i) =>
				`[${String((i * 37) % 100_000).padStart(6)}.${i % 1000}s] worker-${i % 3 === 0 ? 7 : 12}: ${l}`,
		),
};

const fixtures = listCrashFixtures();

// Some fixtures cannot survive a second distortion, and must parse differently:
// - without indentation, a panic value line that reads like a goroutine header (crashgen's
//   panic-multiline) cannot be told from a real one; without blank lines neither, before go1.23,
//   which did not indent value lines; and tabs inside a value turn into spaces;
// - double spacing puts a blank line inside a multi-line panic value, before anything shows that
//   every line is followed by one;
// - log-interleaved is already distorted: another thread's output cut into Go's lines, repaired
//   by where the cut lines end, which reindenting or dropping blank lines moves.
const fakeHeader = (f: Fixture) => valuesMatch(f, /\n\s*goroutine \d+ \[/);
const unrepairable: Record<string, (f: Fixture) => boolean> = {
	"lost indentation": fakeHeader,
	"journald, no indentation, CRLF": fakeHeader,
	"a learned prefix, no indentation": fakeHeader,
	"lost blank lines": (f) => fakeHeader(f) && !/^go1\.(2[3-9]|[3-9]\d)/.test(f.meta.goVersion),
	"indented as a whole, blank lines lost": (f) =>
		fakeHeader(f) && !/^go1\.(2[3-9]|[3-9]\d)/.test(f.meta.goVersion),
	"tabs as spaces": (f) => valuesMatch(f, /\t/),
	// A blank line between a panic value's lines ends the value: before the first goroutine
	// header nothing says the text is double-spaced.
	"double spacing": (f) => valuesMatch(f, /\n/),
	"double spacing, a prefix learned": (f) => valuesMatch(f, /\n/),
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
