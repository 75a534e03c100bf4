import type { Finding } from "../diagnose/index.js";
import { REPORT_KINDS } from "../store/index.js";
import { bar, sparkline } from "./_chart.js";
import { formatFinding } from "./_finding.js";
import { type ApiAnswer, connectFleetApi, DEFAULT_SERVER, type FleetApi } from "./_fleet-api.js";
import type { Command, Io } from "./_io.js";
import { parseCommandArgs, UsageError } from "./_io.js";
import { type Style, styleFor } from "./_style.js";
import { alignColumns } from "./_table.js";

const usage = `usage: gocrash fleet buckets [--from T] [--to T] [--service S] [--kind K] [--attr NAME=VALUE]...
                            [--limit N]
       gocrash fleet bucket ID [--kind K] [--reference crashes|fleet] [--explain]
                               [--from T] [--to T] [--service S] [--attr NAME=VALUE]...
       gocrash fleet correlations ID [--reference crashes|fleet] [--kind K]
                                     [--from T] [--to T] [--service S] [--attr NAME=VALUE]...
       gocrash fleet rates [--bucket ID] [--kind K] [--interval hour|day]
                           [--from T] [--to T] [--service S] [--attr NAME=VALUE]...
       gocrash fleet crash ID [--explain]
       gocrash fleet host NAME [--kind K] [--limit N]
       (each also takes [--server URL] [--token T] [--json])

Reads the fleet service ('gocrash serve') over its HTTP API: the top buckets, one bucket with its
diagnosis and the attribute values over-represented in it, crash rates as a terminal chart, one
crash with its text, a host's crashes. Times are UTC.

  --server URL      the service (default: $GOCRASH_SERVER, else ${DEFAULT_SERVER})
  --token T         a read token (default: $GOCRASH_TOKEN; 'gocrash token create --scope read')
  --json            print the API's answers as they came, one a line (bucket: the bucket, then
                    its correlations; host: each page)
  --from T, --to T  the window: RFC 3339, ms since the epoch, or a time back from now such as
                    90m, 24h, 7d (default: the 7 days up to now; widened to whole hours)
  --service S       only this service's crashes
  --kind K          fatal (the default) or recovered (panics the program recovered from); for
                    host: only this kind (default: both)
  --attr NAME=VALUE only crashes with this attribute value (goarch=arm64, region=eu-west,
                    version=1.2.0); repeat for several
  --limit N         buckets: how many (default 50, at most 1000); host: how many crashes,
                    following the pages (default 50)
  --reference R     compare the bucket with the other crashes (the default) or with the
                    fleet's host-hours from heartbeats
  --bucket ID       rates: only this bucket's crashes (default: every crash)
  --interval I      rates: hour (the default) or day
  --explain         also print each diagnosis's explanation and every step
`;

type Action = "buckets" | "bucket" | "correlations" | "rates" | "crash" | "host";

const FILTER = ["from", "to", "service", "kind", "attr"] as const;
/** The options each action takes besides --server, --token and --json. */
const OPTIONS: Readonly<Record<Action, readonly string[]>> = {
	buckets: [...FILTER, "limit"],
	bucket: [...FILTER, "reference", "explain"],
	correlations: [...FILTER, "reference"],
	rates: [...FILTER, "bucket", "interval"],
	crash: ["explain"],
	host: ["kind", "limit"],
};
/** The actions that name one thing after them. */
const NAMED: Readonly<Partial<Record<Action, string>>> = {
	bucket: "the bucket's id",
	correlations: "the bucket's id",
	crash: "the crash's id",
	host: "the host's name",
};
const REFERENCES = ["crashes", "fleet"];
const INTERVALS = ["hour", "day"];
/** How many correlations the bucket view shows. */
const TOP_CORRELATIONS = 10;
/** The most crashes one request of `host` asks for (the API's page limit). */
const PAGE = 1000;

/** `gocrash fleet`: the fleet service's buckets, correlations, rates and crashes, read over HTTP. */
export const fleetCommand: Command = {
	name: "fleet",
	summary: "read the fleet service over HTTP: top buckets, diagnoses, correlations, rate charts",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			server: { type: "string" },
			token: { type: "string" },
			json: { type: "boolean", default: false },
			from: { type: "string" },
			to: { type: "string" },
			service: { type: "string" },
			kind: { type: "string" },
			attr: { type: "string", multiple: true },
			limit: { type: "string" },
			reference: { type: "string" },
			bucket: { type: "string" },
			interval: { type: "string" },
			explain: { type: "boolean" },
		});
		const [action, ...rest] = positionals;
		if (action === undefined || !Object.hasOwn(OPTIONS, action))
			throw new UsageError(`give an action: ${Object.keys(OPTIONS).join(", ")}`);
		const act = action as Action;
		const given = values as Record<string, unknown>;
		for (const name of Object.keys(given)) {
			if (["server", "token", "json"].includes(name) || given[name] === undefined) continue;
			if (!OPTIONS[act].includes(name))
				throw new UsageError(`--${name}: not an option of 'fleet ${act}'`);
		}
		const what = NAMED[act];
		const [name, ...extra] = rest;
		if (what !== undefined && (name === undefined || name === ""))
			throw new UsageError(`${act}: give ${what}`);
		const unexpected = what === undefined ? rest[0] : extra[0];
		if (unexpected !== undefined) throw new UsageError(`unexpected argument '${unexpected}'`);
		const kind = oneOf("kind", values.kind, REPORT_KINDS);
		const reference = oneOf("reference", values.reference, REFERENCES);
		const interval = oneOf("interval", values.interval, INTERVALS);
		const limit = readLimit(values.limit, act === "host" ? 100_000 : 1000);
		const filter = {
			from: readTime("from", values.from),
			to: readTime("to", values.to),
			service: values.service,
			kind,
			...(await readAttributes(values.attr ?? [])),
		};
		const api = connectFleetApi(
			values.server ?? nonEmpty(io.env.GOCRASH_SERVER) ?? DEFAULT_SERVER,
			values.token ?? nonEmpty(io.env.GOCRASH_TOKEN),
		);
		const out: Output = { io, json: values.json, style: styleFor(io.stdout.isTTY, io.env) };
		const id = encodeURIComponent(name ?? "");
		const explain = values.explain === true;
		switch (act) {
			case "buckets": {
				const answer = await api.get("/api/v1/buckets", { ...filter, limit: values.limit });
				print(out, [answer], () =>
					formatBuckets(answer.json as BucketList, kind ?? "fatal", limit ?? 50, out),
				);
				return 0;
			}
			case "bucket": {
				const bucket = await api.get(`/api/v1/buckets/${id}`, { kind });
				const correlations = await api.get(`/api/v1/buckets/${id}/correlations`, {
					...filter,
					reference,
				});
				print(out, [bucket, correlations], () =>
					formatBucket(bucket.json as Bucket, correlations.json as Correlations, explain, out),
				);
				return 0;
			}
			case "correlations": {
				const answer = await api.get(`/api/v1/buckets/${id}/correlations`, {
					...filter,
					reference,
				});
				print(out, [answer], () =>
					formatCorrelations(answer.json as Correlations, Number.POSITIVE_INFINITY),
				);
				return 0;
			}
			case "rates": {
				const answer = await api.get("/api/v1/rates", {
					...filter,
					bucket: values.bucket,
					interval,
				});
				print(out, [answer], () => formatRates(answer.json as Rates));
				return 0;
			}
			case "crash": {
				const answer = await api.get(`/api/v1/crashes/${id}`);
				print(out, [answer], () => formatCrash(answer.json as Crash, explain, out.style));
				return 0;
			}
			case "host": {
				const pages = await hostCrashes(api, name as string, kind, limit ?? 50);
				print(out, pages.answers, () => formatHost(name as string, pages, out.style));
				return 0;
			}
		}
	},
};

interface Output {
	readonly io: Io;
	readonly json: boolean;
	readonly style: Style;
}

/** With --json, the answers as the API sent them, one a line; else the text. */
function print(out: Output, answers: readonly ApiAnswer[], text: () => string): void {
	out.io.stdout.write(
		out.json ? answers.map((a) => `${a.text.trimEnd()}\n`).join("") : `${text().trimEnd()}\n`,
	);
}

const nonEmpty = (v: string | undefined): string | undefined => (v === "" ? undefined : v);

function oneOf(name: string, value: string | undefined, allowed: readonly string[]) {
	if (value !== undefined && !allowed.includes(value))
		throw new UsageError(`--${name}: '${value}' is not ${allowed.join(" or ")}`);
	return value;
}

function readLimit(value: string | undefined, max: number): number | undefined {
	if (value === undefined) return undefined;
	const n = Number(value);
	if (!/^\d{1,9}$/.test(value) || n < 1 || n > max)
		throw new UsageError(`--limit: '${value}' is not a whole number from 1 to ${max}`);
	return n;
}

const UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A time as the API takes it: a span back from now (90m, 24h, 7d) becomes RFC 3339, the rest is the API's to read. */
function readTime(name: string, value: string | undefined): string | undefined {
	if (value === undefined) return undefined;
	const ago = /^(\d{1,6})([mhd])$/.exec(value);
	if (ago === null) return value;
	const t = Date.now() - Number(ago[1]) * (UNITS[ago[2] as string] as number);
	if (!Number.isFinite(new Date(t).getTime()))
		throw new UsageError(`--${name}: '${value}' reaches too far back`);
	return new Date(t).toISOString();
}

/** `--attr NAME=VALUE` values as the query parameters the API reads as attribute filters. */
async function readAttributes(attrs: readonly string[]): Promise<Record<string, string[]>> {
	if (attrs.length === 0) return {};
	// Loaded only here: the server module brings Fastify, which the other reads do not need.
	const { QUERY_PARAMETERS } = await import("../server/index.js");
	const out: Record<string, string[]> = {};
	for (const a of attrs) {
		const eq = a.indexOf("=");
		const name = a.slice(0, eq);
		if (eq <= 0) throw new UsageError(`--attr: '${a}' is not NAME=VALUE`);
		if (QUERY_PARAMETERS.has(name))
			throw new UsageError(
				`--attr: '${name}' is a parameter of its own, not an attribute filter${name === "service" ? " (use --service)" : ""}`,
			);
		out[name] = [...(out[name] ?? []), a.slice(eq + 1)];
	}
	return out;
}

async function hostCrashes(
	api: FleetApi,
	host: string,
	kind: string | undefined,
	limit: number,
): Promise<{ answers: ApiAnswer[]; crashes: CrashSummary[]; more: boolean }> {
	const answers: ApiAnswer[] = [];
	const crashes: CrashSummary[] = [];
	let cursor: string | undefined;
	do {
		const answer = await api.get("/api/v1/crashes", {
			host,
			kind,
			limit: String(Math.min(PAGE, limit - crashes.length)),
			cursor,
		});
		const page = answer.json as { crashes: CrashSummary[]; next: string | null };
		answers.push(answer);
		crashes.push(...page.crashes);
		cursor = page.next ?? undefined;
	} while (cursor !== undefined && crashes.length < limit);
	return { answers, crashes, more: cursor !== undefined };
}

// The API's answers, as far as the text output reads them (docs/serve.md describes them in full).

interface Diagnosis {
	readonly id: string;
	readonly confidence: string;
}

interface BucketSummary {
	readonly id: string;
	readonly title: string;
	readonly count: number;
	readonly hosts: number;
	readonly firstSeen: string;
	readonly lastSeen: string;
	readonly diagnosis: Diagnosis | null;
}

interface BucketList {
	readonly from: string;
	readonly to: string;
	readonly buckets: readonly (BucketSummary & {
		readonly new: boolean;
		readonly regressed: boolean;
		readonly rank: number;
		readonly previousRank: number | null;
	})[];
}

interface CrashSummary {
	readonly id: string;
	readonly kind: string;
	readonly time: string;
	readonly host: string;
	/** Empty when the report named none. */
	readonly service: string | null;
	readonly version: string | null;
	readonly bucket: string;
	readonly message: string;
	readonly diagnosis: Diagnosis | null;
}

interface Bucket extends BucketSummary {
	readonly signature: { readonly version: number; readonly reason: string; frames: string[] };
	readonly why: readonly string[];
	readonly diagnosis: (Diagnosis & { readonly finding: Finding | null }) | null;
	readonly findings: readonly Finding[];
	readonly versions: readonly {
		service: string;
		version: string;
		firstSeen: string;
		lastSeen: string;
		count: number;
	}[];
	readonly regressions: readonly {
		service: string;
		lastBefore: string;
		absentIn: readonly string[];
		version: string;
	}[];
	readonly samples: readonly CrashSummary[];
}

interface Correlations {
	readonly bucket: string;
	readonly reference: "crashes" | "fleet";
	readonly from: string;
	readonly to: string;
	readonly bucketTotal: number;
	readonly referenceTotal: number;
	readonly correlations: readonly {
		attribute: string;
		value: string;
		inBucket: number;
		inReference: number;
		count: number;
		q: number;
		effect: number;
	}[];
	readonly time: readonly {
		against: string;
		interval: "hour" | "day";
		r: number | null;
		best: { lag: number; r: number; n: number } | null;
	}[];
}

interface Rates {
	readonly kind: string;
	readonly interval: "hour" | "day";
	readonly bucket: string | null;
	readonly series: readonly {
		t: string;
		count: number;
		hostHours: number;
		perHostHour: number | null;
	}[];
}

interface Crash extends CrashSummary {
	readonly received: string;
	readonly attributes: Readonly<Record<string, string | readonly string[]>>;
	readonly findings: readonly Finding[];
	readonly text: string | null;
	readonly textSize: number;
}

/** An RFC 3339 time to the minute (or second), as the tables show it. */
const minute = (iso: string): string => iso.slice(0, 16).replace("T", " ");
const second = (iso: string): string => iso.slice(0, 19).replace("T", " ");
const window = (from: string, to: string): string => `${minute(from)} – ${minute(to)} UTC`;
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const diagnosisOf = (d: Diagnosis | null): string =>
	d === null ? "-" : `${d.id} (${d.confidence})`;
const table = (header: readonly string[], rows: readonly (readonly string[])[]): string =>
	alignColumns([header, ...rows]).join("\n");
/** A small number with three significant digits: 0.00111, 2.18e-5. */
const precise = (n: number): string => (n === 0 ? "0" : String(Number(n.toPrecision(3))));

function formatBuckets(list: BucketList, kind: string, limit: number, out: Output): string {
	const s = out.style;
	const n = list.buckets.length;
	const head = `${n === limit ? `top ${limit}` : n} ${kind} bucket${n === 1 ? "" : "s"}, ${window(list.from, list.to)}`;
	if (n === 0) return `no ${kind} crashes ${window(list.from, list.to)}`;
	const rows = list.buckets.map((b) => {
		const moved =
			b.previousRank === null
				? ""
				: b.previousRank === b.rank
					? " ="
					: b.previousRank > b.rank
						? ` ▲${b.previousRank - b.rank}`
						: ` ▼${b.rank - b.previousRank}`;
		const marks =
			[b.new ? s.yellow("new") : "", b.regressed ? s.red("regressed") : ""]
				.filter((m) => m !== "")
				.join(",") || "-";
		return [
			`${b.rank}${moved}`,
			String(b.count),
			String(b.hosts),
			minute(b.firstSeen),
			minute(b.lastSeen),
			marks,
			b.id,
			diagnosisOf(b.diagnosis),
			b.title,
		];
	});
	return `${s.bold(head)}\n${table(
		["RANK", "COUNT", "HOSTS", "FIRST SEEN", "LAST SEEN", "MARKS", "ID", "DIAGNOSIS", "TITLE"],
		rows,
	)}`;
}

function formatBucket(b: Bucket, c: Correlations, explain: boolean, out: Output): string {
	const s = out.style;
	const lines = [
		`${s.bold(`bucket ${b.id}`)}: ${b.title}`,
		`${plural(b.count, "crash", "crashes")} on ${plural(b.hosts, "host")}, first ${minute(b.firstSeen)}, last ${minute(b.lastSeen)} UTC${b.regressions.length > 0 ? `, ${s.red("regressed")}` : ""}`,
		"",
		`${s.dim(`signature (v${b.signature.version}):`)} ${b.signature.reason}`,
		...b.signature.frames.map((f) => `  ${f}`),
		s.dim("why grouped:"),
		...b.why.map((w) => `  - ${w}`),
		"",
	];
	const finding = b.diagnosis?.finding ?? null;
	if (finding === null) lines.push("diagnosis: no known cause matched");
	else lines.push(formatFinding(finding, s, explain));
	const others = b.findings.filter((f) => f.id !== finding?.id);
	if (others.length > 0)
		lines.push(`  ${s.dim("also:")} ${others.map((f) => `${f.id} (${f.confidence})`).join(", ")}`);
	lines.push("", s.dim("versions:"));
	lines.push(
		...indent(
			table(
				["SERVICE", "VERSION", "COUNT", "FIRST SEEN", "LAST SEEN"],
				b.versions.map((v) => [
					v.service,
					v.version,
					String(v.count),
					minute(v.firstSeen),
					minute(v.lastSeen),
				]),
			),
		),
	);
	for (const r of b.regressions)
		lines.push(
			`  ${s.red("regressed")} in ${r.service} ${r.version}: seen in ${r.lastBefore}, not in ${r.absentIn.join(", ")}`,
		);
	lines.push("", s.dim(`newest ${plural(b.samples.length, "crash", "crashes")}:`));
	lines.push(...indent(formatCrashList(b.samples, false)));
	lines.push("", formatCorrelations(c, TOP_CORRELATIONS));
	return lines.join("\n");
}

const indent = (text: string): string[] => text.split("\n").map((l) => `  ${l}`);

function formatCrashList(crashes: readonly CrashSummary[], bucket: boolean): string {
	return table(
		[
			"TIME",
			"KIND",
			"HOST",
			"SERVICE",
			"VERSION",
			"ID",
			...(bucket ? ["BUCKET", "DIAGNOSIS"] : []),
			"MESSAGE",
		],
		crashes.map((c) => [
			second(c.time),
			c.kind,
			c.host,
			c.service || "-",
			c.version || "-",
			c.id,
			...(bucket ? [c.bucket, diagnosisOf(c.diagnosis)] : []),
			c.message,
		]),
	);
}

function formatCorrelations(c: Correlations, top: number): string {
	const against =
		c.reference === "fleet"
			? `against the fleet (${plural(c.referenceTotal, "host-hour")} of heartbeats)`
			: `against the other crashes (${c.referenceTotal})`;
	const lines = [
		`correlations of bucket ${c.bucket} (${plural(c.bucketTotal, "crash", "crashes")}) ${against}, ${window(c.from, c.to)}:`,
	];
	const percent = (x: number): string => `${precise(x * 100)}%`;
	if (c.correlations.length === 0) lines.push("  no attribute value over-represented (q ≤ 0.05)");
	else
		lines.push(
			...indent(
				table(
					["ATTRIBUTE", "VALUE", "IN BUCKET", "IN REFERENCE", "COUNT", "Q", "EFFECT"],
					c.correlations
						.slice(0, top)
						.map((x) => [
							x.attribute,
							x.value,
							percent(x.inBucket),
							percent(x.inReference),
							String(x.count),
							x.q === 0 || x.q >= 0.001 ? precise(x.q) : x.q.toExponential(1),
							x.effect.toFixed(2),
						]),
				),
			),
		);
	if (c.correlations.length > top)
		lines.push(
			`  (${c.correlations.length - top} more: gocrash fleet correlations ${c.bucket}${c.reference === "fleet" ? " --reference fleet" : ""})`,
		);
	for (const t of c.time) {
		const r = t.r === null ? "-" : t.r.toFixed(2);
		const best =
			t.best === null || t.best.lag === 0
				? ""
				: `; strongest r=${t.best.r.toFixed(2)} with the bucket ${Math.abs(t.best.lag)} h ${t.best.lag > 0 ? "behind" : "ahead"}`;
		lines.push(`  per ${t.interval}, against the ${t.against} rate: r=${r}${best}`);
	}
	return lines.join("\n");
}

const BAR_WIDTH = 40;

function formatRates(r: Rates): string {
	const what = `${r.kind} crashes${r.bucket === null ? "" : ` of bucket ${r.bucket}`}`;
	const first = r.series[0];
	const last = r.series.at(-1);
	if (first === undefined || last === undefined) return `${what}: no ${r.interval}s in the window`;
	const step = r.interval === "day" ? 86_400_000 : 3_600_000;
	const end = new Date(Date.parse(last.t) + step).toISOString();
	const total = r.series.reduce((n, p) => n + p.count, 0);
	const max = Math.max(...r.series.map((p) => p.count));
	const perHost = (points: typeof r.series): string => {
		const withHosts = points.filter((p) => p.hostHours > 0);
		const hostHours = withHosts.reduce((n, p) => n + p.hostHours, 0);
		return hostHours === 0 ? "-" : precise(withHosts.reduce((n, p) => n + p.count, 0) / hostHours);
	};
	const lines = [
		`${what} per ${r.interval}, ${window(first.t, end)}: ${total} in all, at most ${max} in ${r.interval === "day" ? "a day" : "an hour"}, ${perHost(r.series)} per host-hour`,
	];
	if (r.interval === "day") {
		lines.push(
			table(
				["DAY", "CRASHES".padEnd(BAR_WIDTH), "COUNT", "PER HOST-HOUR"],
				r.series.map((p) => [
					p.t.slice(0, 10),
					bar(p.count, max, BAR_WIDTH),
					String(p.count),
					p.perHostHour === null ? "-" : precise(p.perHostHour),
				]),
			),
		);
		return lines.join("\n");
	}
	// Hours: a row a day, a cell an hour (blank: outside the window).
	const days = new Map<string, (typeof r.series)[number][]>();
	for (const p of r.series) {
		const day = p.t.slice(0, 10);
		days.set(day, [...(days.get(day) ?? []), p]);
	}
	const rows = [...days].map(([day, points]) => {
		const cells = new Array<number | null>(24).fill(null);
		for (const p of points) cells[new Date(p.t).getUTCHours()] = p.count;
		return [
			day,
			sparkline(cells, max),
			String(points.reduce((n, p) => n + p.count, 0)),
			perHost(points),
		];
	});
	lines.push(
		table(["DAY", "00    06    12    18    ", "COUNT", "PER HOST-HOUR"], rows),
		`(a cell an hour, its height up to ${max}; · none)`,
	);
	return lines.join("\n");
}

function formatCrash(c: Crash, explain: boolean, s: Style): string {
	const lines = [
		`${s.bold(`crash ${c.id}`)} · ${c.kind} · ${second(c.time)} UTC (received ${second(c.received)})`,
		`host ${c.host} · service ${c.service || "-"} · version ${c.version || "-"} · bucket ${c.bucket}`,
		c.message,
		"",
		s.dim("attributes:"),
		...indent(
			table(
				["NAME", "VALUE"],
				Object.entries(c.attributes).map(([name, v]) => [
					name,
					typeof v === "string" ? v : v.join(", "),
				]),
			),
		),
		"",
	];
	if (c.findings.length === 0) lines.push("diagnosis: no known cause matched");
	for (const f of c.findings) lines.push(formatFinding(f, s, explain));
	lines.push("");
	if (c.text === null)
		lines.push(s.dim(`text: ${c.textSize} bytes, no longer kept (the service's retention)`));
	else lines.push(s.dim(`text (${c.textSize} bytes):`), c.text.trimEnd());
	return lines.join("\n");
}

function formatHost(
	host: string,
	pages: { crashes: readonly CrashSummary[]; more: boolean },
	s: Style,
): string {
	if (pages.crashes.length === 0) return `no crashes from host ${host}`;
	return [
		s.bold(
			`${plural(pages.crashes.length, "crash", "crashes")} from host ${host}, newest first${pages.more ? " (more with a higher --limit)" : ""}`,
		),
		formatCrashList(pages.crashes, true),
	].join("\n");
}
