import { type Kysely, type SqlBool, sql, type Transaction } from "kysely";
import type { AlertStore } from "./_alert-types.js";
import { groupBucketVersions } from "./_bucket-versions.js";
import { addDayRollups, addFleetDays, windowParts } from "./_day-rollups.js";
import { KyselyAlertStore } from "./_kysely-alerts.js";
import { KyselyStreamStore } from "./_kysely-streams.js";
import type { Database } from "./_schema.js";
import type { StreamStore } from "./_stream-types.js";
import {
	type AttributeCounts,
	type BucketRecord,
	type BucketSummary,
	type BucketVersion,
	type CrashQuery,
	type CrashRecord,
	type CrashSummary,
	type Heartbeat,
	type NewCrash,
	type RatePoint,
	REPORT_KINDS,
	type ReportFilter,
	type ReportKind,
	type ResignedCrash,
	type ServiceVersion,
	type Store,
	type StoredCrash,
	type TokenRecord,
	type TokenScope,
} from "./_types.js";
import { fillHostSpans } from "./migrations/009-host-spans.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Rows per multi-row statement: far below SQLite's 32,766 and PostgreSQL's 65,535 parameters.
const CHUNK = 400;

/** Attributes that every report and heartbeat has as columns, counted like any other. */
const BUILTIN_ATTRIBUTES = ["service", "version", "host"] as const;

type Pair = readonly [string, string];
type Span = readonly [number, number];

const floorTo = (t: number, step: number): number => t - (((t % step) + step) % step);

function chunks<T>(rows: readonly T[]): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
	return out;
}

interface Tallied<R> {
	readonly row: R;
	n: number;
	first: number;
	last: number;
}

/**
 * Counts what is added under each key (`n` of it: taken away when negative), with the earliest
 * and latest time added.
 */
class Tally<R> {
	readonly #rows = new Map<string, Tallied<R>>();
	add(key: string, row: R, time = 0, n = 1): void {
		const old = this.#rows.get(key);
		if (old === undefined) this.#rows.set(key, { row, n, first: time, last: time });
		else {
			old.n += n;
			if (time < old.first) old.first = time;
			if (time > old.last) old.last = time;
		}
	}
	/**
	 * Sorted by key, so concurrent writers lock rollup rows in one order; keys whose additions and
	 * subtractions cancel out are left out.
	 */
	entries(): Tallied<R>[] {
		return [...this.#rows.entries()]
			.filter(([, v]) => v.n !== 0)
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
			.map(([, v]) => v);
	}
}

/** What a bucket is made from: a crash's signature and diagnosis. */
type Signed = Pick<NewCrash, "signature" | "diagnosis" | "diagnosisRank" | "findings">;

/** What a crash counts in the rollups: where and when it happened, its bucket and attributes. */
interface Contribution {
	readonly bucket: string;
	readonly kind: string;
	readonly time: number;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly attributes: readonly Pair[];
	/** 1 to count it, -1 to take it back out. */
	readonly n: 1 | -1;
}

function rollupPairs(
	attributes: readonly Pair[],
	row: { service: string; version: string; host: string },
): Pair[] {
	const seen = new Set<string>();
	const out: Pair[] = [];
	for (const [name, value] of [
		...BUILTIN_ATTRIBUTES.map((n): Pair => [n, row[n]]),
		...attributes,
	]) {
		const key = `${name}\0${value}`;
		if (seen.has(key)) continue;
		seen.add(key);
		out.push([name, value]);
	}
	return out;
}

const sum = (column: string) => sql<number>`cast(coalesce(sum(${sql.ref(column)}), 0) as bigint)`;
const countDistinct = (column: string) =>
	sql<number>`cast(count(distinct ${sql.ref(column)}) as bigint)`;
// The later of two values and the earlier, written so both dialects read them the same.
const later = (a: string, b: string) =>
	sql<number>`case when ${sql.ref(a)} > ${sql.ref(b)} then ${sql.ref(a)} else ${sql.ref(b)} end`;
const earlier = (a: string, b: string) =>
	sql<number>`case when ${sql.ref(a)} < ${sql.ref(b)} then ${sql.ref(a)} else ${sql.ref(b)} end`;

/** The rollup tables that count: by `count`, or (heartbeats) by `hosts`. */
type CountedTable =
	| "bucket_hours"
	| "bucket_attr_hours"
	| "bucket_host_days"
	| "bucket_host_hours"
	| "fleet_hours"
	| "fleet_attr_hours";

/** Adds each row's count to the row of the table with the same key, creating the rows that are new. */
async function addCounts(
	trx: Transaction<Database>,
	table: CountedTable,
	keys: readonly string[],
	tally: Tally<Record<string, unknown>>,
	column: "count" | "hosts",
): Promise<void> {
	const rows = tally.entries().map(({ row, n }) => ({ ...row, [column]: n }));
	// The tables differ in their columns only: the typed builder cannot name one of several.
	for (const part of chunks(rows))
		await trx
			.insertInto(table)
			.values(part as never)
			.onConflict((oc) =>
				oc.columns(keys as never).doUpdateSet({
					[column]: sql`${sql.ref(`${table}.${column}`)} + ${sql.ref(`excluded.${column}`)}`,
				} as never),
			)
			.execute();
}

/**
 * Adds each row's count to the row of the table with the same key and widens its first and last
 * seen to take in the row's, creating the rows that are new.
 */
async function addSpans(
	trx: Transaction<Database>,
	table: "bucket_kinds" | "bucket_versions" | "bucket_hosts",
	keys: readonly string[],
	tally: Tally<Record<string, unknown>>,
): Promise<void> {
	const rows = tally
		.entries()
		.map(({ row, n, first, last }) => ({ ...row, first_seen: first, last_seen: last, count: n }));
	for (const part of chunks(rows))
		await trx
			.insertInto(table)
			.values(part as never)
			.onConflict((oc) =>
				oc.columns(keys as never).doUpdateSet({
					first_seen: earlier("excluded.first_seen", `${table}.first_seen`),
					last_seen: later("excluded.last_seen", `${table}.last_seen`),
					count: sql`${sql.ref(`${table}.count`)} + excluded.count`,
				} as never),
			)
			.execute();
}

const isBuiltin = (name: string): name is (typeof BUILTIN_ATTRIBUTES)[number] =>
	(BUILTIN_ATTRIBUTES as readonly string[]).includes(name);

/** The stored attributes of each of the crashes, sorted by name and value. */
async function attributesOf(
	db: Kysely<Database>,
	ids: readonly string[],
): Promise<Map<string, Pair[]>> {
	const out = new Map<string, Pair[]>();
	for (const part of chunks(ids))
		for (const a of await db
			.selectFrom("crash_attributes")
			.select(["crash_id", "name", "value"])
			.where("crash_id", "in", part)
			.orderBy("crash_id")
			.orderBy("name")
			.orderBy("value")
			.execute()) {
			const list = out.get(a.crash_id) ?? [];
			list.push([a.name, a.value]);
			out.set(a.crash_id, list);
		}
	return out;
}

async function insertAttributes(
	trx: Transaction<Database>,
	crashes: readonly {
		id: string;
		kind: string;
		time: number;
		bucket: string;
		host: string;
		attributes: readonly Pair[];
	}[],
): Promise<void> {
	const rows = crashes.flatMap(({ id, kind, time, bucket, host, attributes }) =>
		attributes.map(([name, value]) => ({ crash_id: id, name, value, kind, time, bucket, host })),
	);
	for (const part of chunks(rows))
		await trx
			.insertInto("crash_attributes")
			.values(part)
			.onConflict((oc) => oc.doNothing())
			.execute();
}

/** The store over a Kysely database: one set of queries for SQLite and PostgreSQL. */
export class KyselyStore implements Store {
	readonly dialect: string;
	readonly alerts: AlertStore;
	readonly streams: StreamStore;
	readonly #db: Kysely<Database>;

	constructor(db: Kysely<Database>, dialect: string) {
		this.#db = db;
		this.dialect = dialect;
		this.alerts = new KyselyAlertStore(db, dialect === "postgres");
		this.streams = new KyselyStreamStore(db, (trx, crashes) => this.#insertCrashes(trx, crashes));
	}

	async insertCrashes(crashes: readonly NewCrash[]): Promise<StoredCrash[]> {
		if (crashes.length === 0) return [];
		return this.#db.transaction().execute((trx) => this.#insertCrashes(trx, crashes));
	}

	/** Stores the crashes whose idempotency key is new, inside the transaction. */
	async #insertCrashes(
		trx: Transaction<Database>,
		crashes: readonly NewCrash[],
	): Promise<StoredCrash[]> {
		const results: StoredCrash[] = [];
		const fresh: NewCrash[] = [];
		const keys = new Map<string, StoredCrash>();
		for (const part of chunks(crashes.filter((c) => c.idempotencyKey !== null))) {
			const rows = await trx
				.selectFrom("crashes")
				.select(["id", "bucket", "idempotency_key"])
				.where(
					"idempotency_key",
					"in",
					part.map((c) => c.idempotencyKey as string),
				)
				.execute();
			for (const r of rows)
				keys.set(r.idempotency_key as string, { id: r.id, bucket: r.bucket, duplicate: true });
		}
		for (const crash of crashes) {
			const known = crash.idempotencyKey === null ? undefined : keys.get(crash.idempotencyKey);
			if (known !== undefined) {
				results.push(known);
				continue;
			}
			if (crash.idempotencyKey !== null)
				keys.set(crash.idempotencyKey, {
					id: crash.id,
					bucket: crash.signature.id,
					duplicate: true,
				});
			fresh.push(crash);
			results.push({ id: crash.id, bucket: crash.signature.id, duplicate: false });
		}
		if (fresh.length > 0) await this.#writeCrashes(trx, fresh);
		return results;
	}

	async #writeCrashes(trx: Transaction<Database>, crashes: readonly NewCrash[]): Promise<void> {
		await this.#upsertBuckets(trx, crashes);
		const crashRows = crashes.map((c) => ({
			id: c.id,
			kind: c.kind,
			time: c.time,
			received: c.received,
			host: c.host,
			service: c.service,
			version: c.version,
			bucket: c.signature.id,
			signature_version: c.signature.version,
			message: c.message,
			diagnosis_id: c.diagnosis?.id ?? null,
			diagnosis_confidence: c.diagnosis?.confidence ?? null,
			findings: c.findings,
			raw: c.raw,
			raw_size: c.rawSize,
			search: c.search,
			idempotency_key: c.idempotencyKey,
		}));
		// Crash texts make for large statements: fewer rows per statement.
		for (let i = 0; i < crashRows.length; i += 50)
			await trx
				.insertInto("crashes")
				.values(crashRows.slice(i, i + 50))
				.execute();
		await insertAttributes(
			trx,
			crashes.map((c) => ({ ...c, bucket: c.signature.id })),
		);

		await this.#addRollups(
			trx,
			crashes.map((c) => ({ ...c, bucket: c.signature.id, n: 1 })),
		);
	}

	/** Creates the crashes' buckets, or gives one the diagnosis of a surer crash. */
	async #upsertBuckets(trx: Transaction<Database>, crashes: readonly Signed[]): Promise<void> {
		const buckets = new Map<string, Signed>();
		for (const c of crashes) {
			const old = buckets.get(c.signature.id);
			if (old === undefined || c.diagnosisRank > old.diagnosisRank) buckets.set(c.signature.id, c);
		}
		const bucketRows = [...buckets.values()]
			.sort((a, b) => (a.signature.id < b.signature.id ? -1 : 1))
			.map((c) => ({
				id: c.signature.id,
				version: c.signature.version,
				title: c.signature.title,
				reason: c.signature.reason,
				frames: JSON.stringify(c.signature.frames),
				why: JSON.stringify(c.signature.why),
				diagnosis_id: c.diagnosis?.id ?? null,
				diagnosis_confidence: c.diagnosis?.confidence ?? null,
				diagnosis_rank: c.diagnosisRank,
				findings: c.findings,
			}));
		for (const part of chunks(bucketRows)) {
			await trx
				.insertInto("buckets")
				.values(part)
				.onConflict((oc) =>
					oc.column("id").doUpdateSet((eb) => {
						// The bucket keeps the diagnosis of its surest crash.
						const surer = <T>(column: string) =>
							sql<T>`case when excluded.diagnosis_rank > buckets.diagnosis_rank then ${sql.ref(`excluded.${column}`)} else ${sql.ref(`buckets.${column}`)} end`;
						return {
							version: eb.ref("excluded.version"),
							title: eb.ref("excluded.title"),
							reason: eb.ref("excluded.reason"),
							frames: eb.ref("excluded.frames"),
							why: eb.ref("excluded.why"),
							diagnosis_id: surer<string | null>("diagnosis_id"),
							diagnosis_confidence: surer<string | null>("diagnosis_confidence"),
							findings: surer<string>("findings"),
							diagnosis_rank: surer<number>("diagnosis_rank"),
						};
					}),
				)
				.execute();
		}
	}

	/** Adds the crashes to every rollup, or takes them out (`n` -1) with a newer signature's. */
	async #addRollups(trx: Transaction<Database>, crashes: readonly Contribution[]): Promise<void> {
		const kinds = new Tally<{ bucket: string; kind: string }>();
		const hours = new Tally<{ bucket: string; kind: string; hour: number; service: string }>();
		const attrHours = new Tally<{
			bucket: string;
			kind: string;
			hour: number;
			name: string;
			value: string;
		}>();
		const hostDays = new Tally<{
			bucket: string;
			kind: string;
			day: number;
			service: string;
			host: string;
		}>();
		const hostHours = new Tally<{
			bucket: string;
			kind: string;
			hour: number;
			service: string;
			host: string;
		}>();
		const hostSpans = new Tally<{ bucket: string; kind: string; host: string }>();
		const versions = new Tally<{
			bucket: string;
			kind: string;
			service: string;
			version: string;
		}>();
		const serviceVersions = new Map<
			string,
			{ service: string; version: string; first_seen: number; host_hours: number }
		>();
		for (const c of crashes) {
			const b = c.bucket;
			const hour = floorTo(c.time, HOUR);
			const k = `${b}\0${c.kind}`;
			kinds.add(k, { bucket: b, kind: c.kind }, c.time, c.n);
			hours.add(
				`${k}\0${hour}\0${c.service}`,
				{ bucket: b, kind: c.kind, hour, service: c.service },
				0,
				c.n,
			);
			for (const [name, value] of rollupPairs(c.attributes, c))
				attrHours.add(
					`${k}\0${hour}\0${name}\0${value}`,
					{ bucket: b, kind: c.kind, hour, name, value },
					0,
					c.n,
				);
			const day = floorTo(c.time, DAY);
			const where = { bucket: b, kind: c.kind, service: c.service, host: c.host };
			hostDays.add(`${k}\0${day}\0${c.service}\0${c.host}`, { ...where, day }, 0, c.n);
			hostHours.add(`${k}\0${hour}\0${c.service}\0${c.host}`, { ...where, hour }, 0, c.n);
			hostSpans.add(`${k}\0${c.host}`, { bucket: b, kind: c.kind, host: c.host }, hour, c.n);
			versions.add(
				`${k}\0${c.service}\0${c.version}`,
				{ bucket: b, kind: c.kind, service: c.service, version: c.version },
				c.time,
				c.n,
			);
			const sv = `${c.service}\0${c.version}`;
			const old = serviceVersions.get(sv);
			if (old === undefined || c.time < old.first_seen)
				serviceVersions.set(sv, {
					service: c.service,
					version: c.version,
					first_seen: c.time,
					host_hours: 0,
				});
		}
		await addSpans(trx, "bucket_kinds", ["bucket", "kind"], kinds);
		await addCounts(trx, "bucket_hours", ["bucket", "kind", "hour", "service"], hours, "count");
		await addCounts(
			trx,
			"bucket_attr_hours",
			["bucket", "kind", "hour", "name", "value"],
			attrHours,
			"count",
		);
		await addCounts(
			trx,
			"bucket_host_days",
			["bucket", "kind", "day", "service", "host"],
			hostDays,
			"count",
		);
		await addCounts(
			trx,
			"bucket_host_hours",
			["bucket", "kind", "hour", "service", "host"],
			hostHours,
			"count",
		);
		await addSpans(trx, "bucket_hosts", ["bucket", "kind", "host"], hostSpans);
		await addSpans(trx, "bucket_versions", ["bucket", "kind", "service", "version"], versions);
		await this.#upsertServiceVersions(trx, [...serviceVersions.values()]);
		await addDayRollups(trx, hours.entries(), attrHours.entries());
	}

	/** Adds service versions, or moves their first sighting earlier and adds to their host-hours. */
	async #upsertServiceVersions(
		trx: Transaction<Database>,
		rows: readonly { service: string; version: string; first_seen: number; host_hours: number }[],
	): Promise<void> {
		const sorted = [...rows].sort((a, b) =>
			a.service === b.service ? (a.version < b.version ? -1 : 1) : a.service < b.service ? -1 : 1,
		);
		for (const part of chunks(sorted))
			await trx
				.insertInto("service_versions")
				.values(part)
				.onConflict((oc) =>
					oc.columns(["service", "version"]).doUpdateSet({
						first_seen: earlier("excluded.first_seen", "service_versions.first_seen"),
						host_hours: sql`service_versions.host_hours + excluded.host_hours`,
					}),
				)
				.execute();
	}

	async insertHeartbeats(heartbeats: readonly Heartbeat[]): Promise<void> {
		if (heartbeats.length === 0) return;
		const hostHours = new Map<string, Heartbeat & { hour: number }>();
		const serviceVersions = new Map<
			string,
			{ service: string; version: string; first_seen: number; host_hours: number }
		>();
		for (const h of heartbeats) {
			const hour = floorTo(h.time, HOUR);
			const key = `${hour}\0${h.host}`;
			if (!hostHours.has(key)) hostHours.set(key, { ...h, hour });
			const sv = `${h.service}\0${h.version}`;
			const old = serviceVersions.get(sv);
			if (old === undefined)
				serviceVersions.set(sv, {
					service: h.service,
					version: h.version,
					first_seen: h.time,
					host_hours: 0,
				});
			else if (h.time < old.first_seen) old.first_seen = h.time;
		}
		const sorted = [...hostHours.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, h]) => h);
		await this.#db.transaction().execute(async (trx) => {
			// Host-hours that retention deleted are counted already: a late heartbeat adds nothing.
			const expired = await trx
				.selectFrom("host_hours_expired")
				.select("before")
				.where("id", "=", 1)
				.executeTakeFirst();
			const before = Number(expired?.before ?? Number.NEGATIVE_INFINITY);
			const rows = sorted.filter((h) => h.hour >= before);
			// Only a host-hour seen for the first time adds to the fleet's counts.
			const fleet = new Tally<{ hour: number; service: string }>();
			const fleetAttrs = new Tally<{
				hour: number;
				service: string;
				name: string;
				value: string;
			}>();
			for (const part of chunks(rows)) {
				const inserted = await trx
					.insertInto("host_hours")
					.values(
						part.map((h) => ({
							hour: h.hour,
							host: h.host,
							service: h.service,
							version: h.version,
						})),
					)
					.onConflict((oc) => oc.doNothing())
					.returning(["hour", "host"])
					.execute();
				const added = new Set(inserted.map((r) => `${Number(r.hour)}\0${r.host}`));
				const attrRows: { hour: number; host: string; name: string; value: string }[] = [];
				for (const h of part) {
					if (!added.has(`${h.hour}\0${h.host}`)) continue;
					const version = serviceVersions.get(`${h.service}\0${h.version}`);
					if (version !== undefined) version.host_hours++;
					fleet.add(`${h.hour}\0${h.service}`, { hour: h.hour, service: h.service });
					for (const [name, value] of rollupPairs(h.attributes, h)) {
						attrRows.push({ hour: h.hour, host: h.host, name, value });
						fleetAttrs.add(`${h.hour}\0${h.service}\0${name}\0${value}`, {
							hour: h.hour,
							service: h.service,
							name,
							value,
						});
					}
				}
				for (const attrPart of chunks(attrRows))
					await trx
						.insertInto("host_hour_attrs")
						.values(attrPart)
						.onConflict((oc) => oc.doNothing())
						.execute();
			}
			await addCounts(trx, "fleet_hours", ["hour", "service"], fleet, "hosts");
			await addCounts(
				trx,
				"fleet_attr_hours",
				["hour", "service", "name", "value"],
				fleetAttrs,
				"hosts",
			);
			await addFleetDays(trx, fleetAttrs.entries());
			await this.#upsertServiceVersions(trx, [...serviceVersions.values()]);
		});
	}

	async createToken(token: TokenRecord): Promise<void> {
		await this.#db.insertInto("tokens").values(token).execute();
	}

	async findToken(hash: string): Promise<TokenRecord | null> {
		const row = await this.#db
			.selectFrom("tokens")
			.selectAll()
			.where("hash", "=", hash)
			.executeTakeFirst();
		return row === undefined
			? null
			: { ...row, scope: row.scope as TokenScope, created: Number(row.created) };
	}

	/** Whether the filter can be answered from the hourly rollups, and from which. */
	#rollup(filter: ReportFilter): "hours" | "attribute" | "crashes" {
		if (filter.attributes.length === 0) return "hours";
		if (filter.attributes.length === 1 && filter.service === undefined) return "attribute";
		return "crashes";
	}

	/** The crashes (as `c`) that match every condition given. */
	#crashesWhere(where: Omit<CrashQuery, "limit" | "cursor" | "q">) {
		let q = this.#db.selectFrom("crashes as c");
		if (where.bucket !== undefined) q = q.where("c.bucket", "=", where.bucket);
		if (where.host !== undefined) q = q.where("c.host", "=", where.host);
		if (where.kind !== undefined) q = q.where("c.kind", "=", where.kind);
		if (where.from !== undefined) q = q.where("c.time", ">=", where.from);
		if (where.to !== undefined) q = q.where("c.time", "<", where.to);
		if (where.service !== undefined) q = q.where("c.service", "=", where.service);
		for (const [name, value] of where.attributes ?? []) {
			if (isBuiltin(name)) q = q.where(`c.${name}`, "=", value);
			else
				q = q.where(({ exists, selectFrom }) =>
					exists(
						selectFrom("crash_attributes as a")
							.select("a.crash_id")
							.whereRef("a.crash_id", "=", "c.id")
							.where("a.name", "=", name)
							.where("a.value", "=", value),
					),
				);
		}
		return q;
	}

	async rankBuckets(filter: ReportFilter, limit: number): Promise<string[]> {
		return (await this.#countBuckets(filter, limit, false)).map((r) => r.bucket);
	}

	/**
	 * The buckets' counts in the filter, most first (ties by id), at most `limit`: from the daily
	 * and hourly rollups where they answer the filter, else from the crashes with their hosts.
	 */
	async #countBuckets(
		filter: ReportFilter,
		limit: number,
		withHosts: boolean,
	): Promise<{ bucket: string; count: number; hosts?: number }[]> {
		const how = this.#rollup(filter);
		if (how === "crashes") {
			const q = this.#crashesWhere(filter).select([
				"c.bucket as bucket",
				sql<number>`cast(count(*) as bigint)`.as("count"),
			]);
			const rows = await (withHosts ? q.select(countDistinct("c.host").as("hosts")) : q)
				.groupBy("c.bucket")
				.orderBy("count", "desc")
				.orderBy("c.bucket")
				.limit(limit)
				.execute();
			return rows.map((r) => ({
				bucket: r.bucket,
				count: Number(r.count),
				...("hosts" in r ? { hosts: Number(r.hosts) } : {}),
			}));
		}
		const { days, hours } = windowParts(filter.from, filter.to);
		const parts: Promise<{ bucket: string; count: number }[]>[] = [];
		if (how === "hours") {
			const part = (table: "bucket_hours" | "bucket_days", at: "hour" | "day", span: Span) => {
				let q = this.#db
					.selectFrom(table)
					.select(["bucket", sum("count").as("count")])
					.where("kind", "=", filter.kind)
					.where(sql.ref(at), ">=", span[0])
					.where(sql.ref(at), "<", span[1]);
				if (filter.service !== undefined) q = q.where("service", "=", filter.service);
				return q.groupBy("bucket").execute();
			};
			for (const span of hours) parts.push(part("bucket_hours", "hour", span));
			if (days !== null) parts.push(part("bucket_days", "day", days));
		} else {
			const [[name, value]] = filter.attributes as [Pair];
			const part = (
				table: "bucket_attr_hours" | "bucket_attr_days",
				at: "hour" | "day",
				span: Span,
			) =>
				this.#db
					.selectFrom(table)
					.select(["bucket", sum("count").as("count")])
					.where("kind", "=", filter.kind)
					.where("name", "=", name)
					.where("value", "=", value)
					.where(sql.ref(at), ">=", span[0])
					.where(sql.ref(at), "<", span[1])
					.groupBy("bucket")
					.execute();
			for (const span of hours) parts.push(part("bucket_attr_hours", "hour", span));
			if (days !== null) parts.push(part("bucket_attr_days", "day", days));
		}
		const counts = new Map<string, number>();
		for (const rows of await Promise.all(parts))
			for (const r of rows) counts.set(r.bucket, (counts.get(r.bucket) ?? 0) + Number(r.count));
		return [...counts]
			.filter(([, count]) => count > 0)
			.sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
			.slice(0, limit)
			.map(([bucket, count]) => ({ bucket, count }));
	}

	async listBuckets(filter: ReportFilter, limit: number): Promise<BucketSummary[]> {
		const how = this.#rollup(filter);
		const counted = await this.#countBuckets(filter, limit, true);
		if (counted.length === 0) return [];
		const ids = counted.map((r) => r.bucket);
		const info = await this.#db
			.selectFrom("buckets as b")
			.innerJoin("bucket_kinds as k", "k.bucket", "b.id")
			.select([
				"b.id",
				"b.title",
				"b.diagnosis_id",
				"b.diagnosis_confidence",
				"k.first_seen",
				"k.last_seen",
			])
			.where("b.id", "in", ids)
			.where("k.kind", "=", filter.kind)
			.execute();
		const byId = new Map(info.map((r) => [r.id, r]));
		const only = how === "attribute" ? (filter.attributes[0] as Pair) : undefined;
		let hosts: Map<string, number>;
		if (how === "hours" || (only !== undefined && isBuiltin(only[0]) && only[0] !== "version"))
			hosts = await this.#hostsOf(ids, filter, only);
		else if (only !== undefined) {
			// The host rollups do not know other attributes: the attribute's own rows do, in the
			// hours that the counts came from.
			const { days, hours } = windowParts(filter.from, filter.to);
			const spans = days === null ? hours : [...hours, days];
			const rows = await this.#db
				.selectFrom("crash_attributes")
				.select(["bucket", countDistinct("host").as("hosts")])
				.where("name", "=", only[0])
				.where("value", "=", only[1])
				.where("kind", "=", filter.kind)
				.where("bucket", "in", ids)
				.where("time", ">=", Math.min(...spans.map((s) => s[0])))
				.where("time", "<", Math.max(...spans.map((s) => s[1])))
				.groupBy("bucket")
				.execute();
			hosts = new Map(rows.map((r) => [r.bucket, Number(r.hosts)]));
		} else hosts = new Map();
		return counted.flatMap((r) => {
			const b = byId.get(r.bucket);
			if (b === undefined) return [];
			return [
				{
					id: r.bucket,
					title: b.title,
					count: Number(r.count),
					hosts: r.hosts === undefined ? (hosts.get(r.bucket) ?? 0) : Number(r.hosts),
					firstSeen: Number(b.first_seen),
					lastSeen: Number(b.last_seen),
					diagnosis:
						b.diagnosis_id === null
							? null
							: { id: b.diagnosis_id, confidence: b.diagnosis_confidence ?? "" },
				},
			];
		});
	}

	/**
	 * Distinct hosts of each bucket in the filter's hours. With no service or host named, from the
	 * buckets' host spans; else those of the whole days from the daily rollup and those of the hours
	 * at either end that the days do not have.
	 */
	async #hostsOf(
		ids: readonly string[],
		filter: ReportFilter,
		only: Pair | undefined,
	): Promise<Map<string, number>> {
		const { days, hours } = windowParts(filter.from, filter.to);
		const service = only?.[0] === "service" ? only[1] : filter.service;
		const host = only?.[0] === "host" ? only[1] : undefined;
		if (service === undefined && host === undefined)
			return this.#spannedHosts(ids, filter.kind, days, hours);
		const hosts = new Map<string, number>();
		const add = (rows: readonly { bucket: string; hosts: number }[]) => {
			for (const r of rows) hosts.set(r.bucket, (hosts.get(r.bucket) ?? 0) + Number(r.hosts));
		};
		if (days !== null) {
			let q = this.#db
				.selectFrom("bucket_host_days")
				.select(["bucket", countDistinct("host").as("hosts")])
				.where("bucket", "in", ids)
				.where("kind", "=", filter.kind)
				.where("day", ">=", days[0])
				.where("day", "<", days[1]);
			if (service !== undefined) q = q.where("service", "=", service);
			if (host !== undefined) q = q.where("host", "=", host);
			add(await q.groupBy("bucket").execute());
		}
		if (hours.length > 0) {
			// One range per end, each along the index: an `or` of the two would read every hour.
			const edge = (span: Span) => {
				let q = this.#db
					.selectFrom("bucket_host_hours")
					.select(["bucket", "kind", "host"])
					.where("bucket", "in", ids)
					.where("kind", "=", filter.kind)
					.where("hour", ">=", span[0])
					.where("hour", "<", span[1]);
				if (service !== undefined) q = q.where("service", "=", service);
				if (host !== undefined) q = q.where("host", "=", host);
				return q;
			};
			const [one, ...more] = hours.map(edge) as [ReturnType<typeof edge>];
			let q = this.#db
				.selectFrom(more.reduce((a, b) => a.unionAll(b), one).as("h"))
				.select(["h.bucket", countDistinct("h.host").as("hosts")]);
			if (days !== null)
				q = q.where(({ exists, not, selectFrom }) => {
					let d = selectFrom("bucket_host_days as d")
						.select("d.host")
						.whereRef("d.bucket", "=", "h.bucket")
						.whereRef("d.kind", "=", "h.kind")
						.whereRef("d.host", "=", "h.host")
						.where("d.day", ">=", days[0])
						.where("d.day", "<", days[1]);
					if (service !== undefined) d = d.where("d.service", "=", service);
					return not(exists(d));
				});
			add(await q.groupBy("h.bucket").execute());
		}
		return hosts;
	}

	/**
	 * Distinct hosts of each bucket in the window of `days` and `hours`, from the host spans: a host
	 * whose first or last crash in the bucket is in the window counts, one whose crashes all fall
	 * before or after it does not, and one with crashes on both sides counts if the window's days or
	 * hours have one of its crashes in the bucket.
	 */
	async #spannedHosts(
		ids: readonly string[],
		kind: ReportKind,
		days: Span | null,
		hours: readonly Span[],
	): Promise<Map<string, number>> {
		const spans = days === null ? hours : [...hours, days];
		if (spans.length === 0) return new Map();
		const start = Math.min(...spans.map((s) => s[0]));
		const end = Math.max(...spans.map((s) => s[1]));
		const counted = sql<number>`cast(count(*) as bigint)`.as("hosts");
		const inside = this.#db
			.selectFrom("bucket_hosts")
			.select(["bucket", counted])
			.where("bucket", "in", ids)
			.where("kind", "=", kind)
			.where(({ and, eb, or }) =>
				or(
					(["first_seen", "last_seen"] as const).map((at) =>
						and([eb(at, ">=", start), eb(at, "<", end)]),
					),
				),
			)
			.groupBy("bucket")
			.execute();
		const across = this.#db
			.selectFrom("bucket_hosts as s")
			.select(["s.bucket as bucket", counted])
			.where("s.bucket", "in", ids)
			.where("s.kind", "=", kind)
			.where("s.first_seen", "<", start)
			.where("s.last_seen", ">=", end)
			.where(({ exists, or, selectFrom }) =>
				or([
					...(days === null
						? []
						: [
								exists(
									selectFrom("bucket_host_days as d")
										.select("d.host")
										.whereRef("d.bucket", "=", "s.bucket")
										.whereRef("d.kind", "=", "s.kind")
										.whereRef("d.host", "=", "s.host")
										.where("d.day", ">=", days[0])
										.where("d.day", "<", days[1]),
								),
							]),
					...hours.map(([from, to]) =>
						exists(
							selectFrom("bucket_host_hours as h")
								.select("h.host")
								.whereRef("h.bucket", "=", "s.bucket")
								.whereRef("h.kind", "=", "s.kind")
								.whereRef("h.host", "=", "s.host")
								.where("h.hour", ">=", from)
								.where("h.hour", "<", to),
						),
					),
				]),
			)
			.groupBy("s.bucket")
			.execute();
		const hosts = new Map<string, number>();
		for (const rows of await Promise.all([inside, across]))
			for (const r of rows) hosts.set(r.bucket, (hosts.get(r.bucket) ?? 0) + Number(r.hosts));
		return hosts;
	}

	async getBucket(id: string, kind: ReportKind): Promise<BucketRecord | null> {
		const b = await this.#db
			.selectFrom("buckets")
			.selectAll()
			.where("id", "=", id)
			.executeTakeFirst();
		if (b === undefined) return null;
		const k = await this.#db
			.selectFrom("bucket_kinds")
			.selectAll()
			.where("bucket", "=", id)
			.where("kind", "=", kind)
			.executeTakeFirst();
		const hosts = await this.#db
			.selectFrom("bucket_hosts")
			.select(sql<number>`cast(count(*) as bigint)`.as("hosts"))
			.where("bucket", "=", id)
			.where("kind", "=", kind)
			.executeTakeFirst();
		const versions = (await this.bucketVersions([id], kind)).get(id) ?? [];
		return {
			id: b.id,
			title: b.title,
			count: Number(k?.count ?? 0),
			hosts: Number(hosts?.hosts ?? 0),
			firstSeen: Number(k?.first_seen ?? 0),
			lastSeen: Number(k?.last_seen ?? 0),
			diagnosis:
				b.diagnosis_id === null
					? null
					: { id: b.diagnosis_id, confidence: b.diagnosis_confidence ?? "" },
			signature: {
				id: b.id,
				version: Number(b.version),
				title: b.title,
				reason: b.reason,
				frames: JSON.parse(b.frames) as string[],
				why: JSON.parse(b.why) as string[],
			},
			findings: b.findings,
			versions,
		};
	}

	async bucketVersions(
		ids: readonly string[],
		kind: ReportKind,
	): Promise<Map<string, BucketVersion[]>> {
		if (ids.length === 0) return new Map();
		const rows = await this.#db
			.selectFrom("bucket_versions")
			.selectAll()
			.where("bucket", "in", ids)
			.where("kind", "=", kind)
			.orderBy("first_seen")
			.execute();
		return groupBucketVersions(rows);
	}

	async serviceVersions(service: string | undefined): Promise<ServiceVersion[]> {
		let q = this.#db.selectFrom("service_versions").selectAll();
		if (service !== undefined) q = q.where("service", "=", service);
		const rows = await q.orderBy("first_seen").execute();
		return rows.map((r) => ({
			service: r.service,
			version: r.version,
			firstSeen: Number(r.first_seen),
			hostHours: Number(r.host_hours),
		}));
	}

	async reportAttributes(
		bucket: string | undefined,
		filter: ReportFilter,
	): Promise<AttributeCounts> {
		if (this.#rollup(filter) === "hours" && filter.service === undefined) {
			const { days, hours } = windowParts(filter.from, filter.to);
			const parts: Promise<{ name: string; value: string; count: number }[]>[] = [];
			// Over every bucket, the rollups of all crashes; for one, the bucket's own.
			const part = (at: "hour" | "day", span: Span) => {
				if (bucket === undefined)
					return this.#db
						.selectFrom(at === "hour" ? "attr_hours" : "attr_days")
						.select(["name", "value", sum("count").as("count")])
						.where("kind", "=", filter.kind)
						.where(sql.ref(at), ">=", span[0])
						.where(sql.ref(at), "<", span[1])
						.groupBy(["name", "value"])
						.execute();
				return this.#db
					.selectFrom(at === "hour" ? "bucket_attr_hours" : "bucket_attr_days")
					.select(["name", "value", sum("count").as("count")])
					.where("bucket", "=", bucket)
					.where("kind", "=", filter.kind)
					.where(sql.ref(at), ">=", span[0])
					.where(sql.ref(at), "<", span[1])
					.groupBy(["name", "value"])
					.execute();
			};
			for (const span of hours) parts.push(part("hour", span));
			if (days !== null) parts.push(part("day", days));
			const from = floorTo(filter.from, HOUR);
			const total =
				bucket === undefined
					? this.#db
							.selectFrom("crash_hours")
							.select(sum("count").as("total"))
							.where("kind", "=", filter.kind)
							.where("hour", ">=", from)
							.where("hour", "<", filter.to)
							.executeTakeFirst()
					: this.#db
							.selectFrom("bucket_hours")
							.select(sum("count").as("total"))
							.where("bucket", "=", bucket)
							.where("kind", "=", filter.kind)
							.where("hour", ">=", from)
							.where("hour", "<", filter.to)
							.executeTakeFirst();
			const [t, ...rows] = await Promise.all([total, ...parts]);
			return { total: Number(t?.total ?? 0), counts: mergeCounts(rows) };
		}
		// Filters the rollups cannot answer: count the crashes themselves.
		let crashes = this.#crashesWhere(filter);
		if (bucket !== undefined) crashes = crashes.where("c.bucket", "=", bucket);
		const total = await crashes
			.select(sql<number>`cast(count(*) as bigint)`.as("total"))
			.executeTakeFirst();
		const rows = await crashes
			.innerJoin("crash_attributes as a", "a.crash_id", "c.id")
			.select([
				"a.name as name",
				"a.value as value",
				sql<number>`cast(count(*) as bigint)`.as("count"),
			])
			.groupBy(["a.name", "a.value"])
			.execute();
		const builtins = await Promise.all(
			BUILTIN_ATTRIBUTES.map((name) =>
				crashes
					.select([
						sql<string>`${sql.ref(`c.${name}`)}`.as("value"),
						sql<number>`cast(count(*) as bigint)`.as("count"),
					])
					.groupBy(`c.${name}`)
					.execute()
					.then((rs) =>
						rs.map((r) => ({ attribute: name, value: r.value, count: Number(r.count) })),
					),
			),
		);
		return {
			total: Number(total?.total ?? 0),
			counts: [
				...builtins.flat(),
				...rows.map((r) => ({ attribute: r.name, value: r.value, count: Number(r.count) })),
			],
		};
	}

	async fleetAttributes(filter: ReportFilter): Promise<AttributeCounts> {
		const from = floorTo(filter.from, HOUR);
		const { days, hours } = windowParts(filter.from, filter.to);
		const part = (at: "hour" | "day", span: Span) => {
			let q = this.#db
				.selectFrom(at === "hour" ? "fleet_attr_hours" : "fleet_attr_days")
				.select(["name", "value", sum("hosts").as("count")])
				.where(sql.ref(at), ">=", span[0])
				.where(sql.ref(at), "<", span[1]);
			if (filter.service !== undefined) q = q.where("service", "=", filter.service);
			return q.groupBy(["name", "value"]).execute();
		};
		const parts = hours.map((span) => part("hour", span));
		if (days !== null) parts.push(part("day", days));
		let total = this.#db
			.selectFrom("fleet_hours")
			.select(sum("hosts").as("total"))
			.where("hour", ">=", from)
			.where("hour", "<", filter.to);
		if (filter.service !== undefined) total = total.where("service", "=", filter.service);
		const [t, ...rows] = await Promise.all([total.executeTakeFirst(), ...parts]);
		return { total: Number(t?.total ?? 0), counts: mergeCounts(rows) };
	}

	async rates(
		bucket: string | undefined,
		filter: ReportFilter,
		step: number,
	): Promise<RatePoint[]> {
		const counts = await this.#countsByTime(
			bucket === undefined ? undefined : [bucket],
			filter,
			step,
		);
		const hostHours = await this.#hostHours(filter, step);
		const points = new Map<number, { count: number; hostHours: number }>();
		for (const r of counts) points.set(r.t, { count: r.count, hostHours: 0 });
		for (const r of hostHours) {
			const p = points.get(r.t);
			if (p === undefined) points.set(r.t, { count: 0, hostHours: r.hostHours });
			else p.hostHours = r.hostHours;
		}
		return [...points.entries()].sort(([a], [b]) => a - b).map(([t, p]) => ({ t, ...p }));
	}

	async bucketRates(
		buckets: readonly string[],
		filter: ReportFilter,
		step: number,
	): Promise<Map<string, { t: number; count: number }[]>> {
		const out = new Map<string, { t: number; count: number }[]>(buckets.map((b) => [b, []]));
		if (buckets.length === 0) return out;
		for (const r of await this.#countsByTime(buckets, filter, step))
			out.get(r.bucket ?? "")?.push({ t: r.t, count: r.count });
		for (const points of out.values()) points.sort((a, b) => a.t - b.t);
		return out;
	}

	/**
	 * Reports per interval of `step` ms: over every bucket (`buckets` undefined), or per bucket of
	 * those given, from the hourly rollups where the filter allows and from the crashes where not.
	 */
	async #countsByTime(
		buckets: readonly string[] | undefined,
		filter: ReportFilter,
		step: number,
	): Promise<{ bucket: string | null; t: number; count: number }[]> {
		const from = floorTo(filter.from, HOUR);
		const how = this.#rollup(filter);
		const bin = (column: string) =>
			sql<number>`(${sql.ref(column)} - (${sql.ref(column)} % ${step}))`;
		const byBucket = buckets !== undefined;
		let rows: { bucket?: string; t: number; count: number }[];
		if (how === "crashes") {
			let q = this.#crashesWhere(filter).select([
				bin("c.time").as("t"),
				sql<number>`cast(count(*) as bigint)`.as("count"),
			]);
			if (byBucket) q = q.where("c.bucket", "in", buckets).select("c.bucket");
			rows = await q.groupBy(byBucket ? [sql`1`, sql`3`] : [sql`1`]).execute();
		} else {
			// Over every bucket, hours come from the rollup of all crashes.
			const table =
				how === "attribute" ? "bucket_attr_hours" : byBucket ? "bucket_hours" : "crash_hours";
			let q = this.#db
				.selectFrom(table)
				.select([bin("hour").as("t"), sum("count").as("count")])
				.where("kind", "=", filter.kind)
				.where("hour", ">=", from)
				.where("hour", "<", filter.to);
			if (byBucket)
				q = q.where(sql.ref("bucket"), "in", buckets).select(sql<string>`bucket`.as("bucket"));
			if (how === "hours" && filter.service !== undefined)
				q = q.where(sql.ref("service"), "=", filter.service);
			if (how === "attribute") {
				const [[name, value]] = filter.attributes as [Pair];
				q = q.where(sql.ref("name"), "=", name).where(sql.ref("value"), "=", value);
			}
			rows = await q.groupBy(byBucket ? [sql`1`, sql`3`] : [sql`1`]).execute();
		}
		return rows.map((r) => ({ bucket: r.bucket ?? null, t: Number(r.t), count: Number(r.count) }));
	}

	async #hostHours(
		filter: ReportFilter,
		step: number,
	): Promise<{ t: number; hostHours: number }[]> {
		const from = floorTo(filter.from, HOUR);
		const bin = (column: string) =>
			sql<number>`(${sql.ref(column)} - (${sql.ref(column)} % ${step}))`;
		const hostAttributes = filter.attributes.filter(([name]) => name !== "host");
		const host = filter.attributes.find(([name]) => name === "host")?.[1];
		let rows: { t: number; n: number }[];
		if (hostAttributes.length === 0 && host === undefined) {
			let q = this.#db
				.selectFrom("fleet_hours")
				.select([bin("hour").as("t"), sum("hosts").as("n")])
				.where("hour", ">=", from)
				.where("hour", "<", filter.to);
			if (filter.service !== undefined) q = q.where("service", "=", filter.service);
			rows = await q.groupBy(sql`1`).execute();
		} else if (hostAttributes.length === 1 && host === undefined) {
			const [[name, value]] = hostAttributes as [Pair];
			let q = this.#db
				.selectFrom("fleet_attr_hours")
				.select([bin("hour").as("t"), sum("hosts").as("n")])
				.where("hour", ">=", from)
				.where("hour", "<", filter.to)
				.where("name", "=", name)
				.where("value", "=", value);
			if (filter.service !== undefined) q = q.where("service", "=", filter.service);
			rows = await q.groupBy(sql`1`).execute();
		} else {
			let q = this.#db
				.selectFrom("host_hours as h")
				.where("h.hour", ">=", from)
				.where("h.hour", "<", filter.to);
			if (filter.service !== undefined) q = q.where("h.service", "=", filter.service);
			if (host !== undefined) q = q.where("h.host", "=", host);
			for (const [name, value] of hostAttributes)
				q = q.where(({ exists, selectFrom }) =>
					exists(
						selectFrom("host_hour_attrs as a")
							.select("a.hour")
							.whereRef("a.hour", "=", "h.hour")
							.whereRef("a.host", "=", "h.host")
							.where("a.name", "=", name)
							.where("a.value", "=", value),
					),
				);
			rows = await q
				.select([bin("h.hour").as("t"), sql<number>`cast(count(*) as bigint)`.as("n")])
				.groupBy(sql`1`)
				.execute();
		}
		return rows.map((r) => ({ t: Number(r.t), hostHours: Number(r.n) }));
	}

	async getCrash(id: string): Promise<CrashRecord | null> {
		const c = await this.#db
			.selectFrom("crashes")
			.selectAll()
			.where("id", "=", id)
			.executeTakeFirst();
		if (c === undefined) return null;
		const attributes = await this.#db
			.selectFrom("crash_attributes")
			.select(["name", "value"])
			.where("crash_id", "=", id)
			.orderBy("name")
			.orderBy("value")
			.execute();
		return crashRecord(
			c,
			attributes.map((a): Pair => [a.name, a.value]),
		);
	}

	async scanCrashes(after: string | null, limit: number): Promise<CrashRecord[]> {
		let q = this.#db.selectFrom("crashes").selectAll().orderBy("id").limit(limit);
		if (after !== null) q = q.where("id", ">", after);
		const rows = await q.execute();
		if (rows.length === 0) return [];
		const attributes = await attributesOf(
			this.#db,
			rows.map((r) => r.id),
		);
		return rows.map((c) => crashRecord(c, attributes.get(c.id) ?? []));
	}

	async resignCrashes(crashes: readonly ResignedCrash[]): Promise<number> {
		if (crashes.length === 0) return 0;
		return this.#db.transaction().execute(async (trx) => {
			const ids = crashes.map((c) => c.id);
			const old = new Map<string, Omit<Contribution, "attributes" | "n">>();
			for (const part of chunks(ids))
				for (const r of await trx
					.selectFrom("crashes")
					.select(["id", "bucket", "kind", "time", "host", "service", "version"])
					.where("id", "in", part)
					.execute())
					old.set(r.id, { ...r, time: Number(r.time) });
			const oldAttributes = await attributesOf(trx, ids);
			const moved = crashes.filter((c) => old.has(c.id));
			if (moved.length === 0) return 0;
			await this.#upsertBuckets(trx, moved);
			for (const c of moved)
				await trx
					.updateTable("crashes")
					.set({
						bucket: c.signature.id,
						signature_version: c.signature.version,
						message: c.message,
						diagnosis_id: c.diagnosis?.id ?? null,
						diagnosis_confidence: c.diagnosis?.confidence ?? null,
						findings: c.findings,
						search: c.search,
					})
					.where("id", "=", c.id)
					.execute();
			const movedIds = moved.map((c) => c.id);
			for (const part of chunks(movedIds))
				await trx.deleteFrom("crash_attributes").where("crash_id", "in", part).execute();
			await insertAttributes(
				trx,
				moved.map((c) => ({
					...(old.get(c.id) as Omit<Contribution, "attributes" | "n">),
					id: c.id,
					bucket: c.signature.id,
					attributes: c.attributes,
				})),
			);
			// One pass over the rollups: each crash taken out as it was and counted as it is now.
			await this.#addRollups(
				trx,
				moved.flatMap((c): Contribution[] => {
					const was = old.get(c.id) as Omit<Contribution, "attributes" | "n">;
					return [
						{ ...was, attributes: oldAttributes.get(c.id) ?? [], n: -1 },
						{ ...was, bucket: c.signature.id, attributes: c.attributes, n: 1 },
					];
				}),
			);
			await this.#settleMovedBuckets(
				trx,
				[...new Set([...old.values()].map((c) => c.bucket))].sort(),
				[...old.values()].map((c) => c.time),
			);
			return moved.length;
		});
	}

	/**
	 * Settles the buckets that crashes moved out of: deletes the rollup rows left at zero and the
	 * buckets left with no crashes of any kind (in those buckets, and the hours and days the
	 * crashes happened in), and narrows first and last seen to the crashes that are left where
	 * every one of them is still stored (else a crash that retention deleted may have been first).
	 */
	async #settleMovedBuckets(
		trx: Transaction<Database>,
		buckets: readonly string[],
		times: readonly number[],
	): Promise<void> {
		for (const part of chunks(buckets)) {
			for (const table of [
				"bucket_kinds",
				"bucket_hours",
				"bucket_attr_hours",
				"bucket_host_days",
				"bucket_host_hours",
				"bucket_versions",
				"bucket_days",
				"bucket_attr_days",
			] as const)
				await trx.deleteFrom(table).where("bucket", "in", part).where("count", "<=", 0).execute();
			// A host's span narrows when crashes leave: written again from the hours left.
			await trx.deleteFrom("bucket_hosts").where("bucket", "in", part).execute();
			await fillHostSpans(trx, part);
			await trx
				.deleteFrom("buckets")
				.where("id", "in", part)
				.where(({ not, exists, selectFrom }) =>
					not(
						exists(
							selectFrom("bucket_kinds as k")
								.select("k.bucket")
								.whereRef("k.bucket", "=", "buckets.id"),
						),
					),
				)
				.execute();
			for (const [table, keys] of [
				["bucket_kinds", ["bucket", "kind"]],
				["bucket_versions", ["bucket", "kind", "service", "version"]],
			] as const) {
				const spans = await trx
					.selectFrom("crashes")
					.select([
						...keys,
						sql<number>`cast(count(*) as bigint)`.as("n"),
						sql<number>`min(time)`.as("first"),
						sql<number>`max(time)`.as("last"),
					])
					.where("bucket", "in", part)
					.groupBy([...keys])
					.execute();
				for (const span of spans) {
					let q = trx
						.updateTable(table)
						.set({ first_seen: Number(span.first), last_seen: Number(span.last) })
						.where("count", "=", Number(span.n));
					const at = span as unknown as Record<(typeof keys)[number], string>;
					for (const key of keys) q = q.where(key, "=", at[key]);
					await q.execute();
				}
			}
		}
		const hours = [...new Set(times.map((t) => floorTo(t, HOUR)))];
		const days = [...new Set(times.map((t) => floorTo(t, DAY)))];
		for (const part of chunks(hours)) {
			await trx
				.deleteFrom("crash_hours")
				.where("hour", "in", part)
				.where("count", "<=", 0)
				.execute();
			await trx
				.deleteFrom("attr_hours")
				.where("hour", "in", part)
				.where("count", "<=", 0)
				.execute();
		}
		for (const part of chunks(days))
			await trx.deleteFrom("attr_days").where("day", "in", part).where("count", "<=", 0).execute();
	}

	async listCrashes(query: CrashQuery): Promise<CrashSummary[]> {
		if (query.kind === undefined && query.host === undefined) {
			// Each kind newest first along its index (bucket or time, then kind), then merged.
			const lists = await Promise.all(
				REPORT_KINDS.map((kind) => this.listCrashes({ ...query, kind })),
			);
			return lists
				.flat()
				.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
				.slice(0, query.limit);
		}
		let q = this.#crashesWhere(query).select([
			"id",
			"kind",
			"time",
			"host",
			"service",
			"version",
			"bucket",
			"message",
			"diagnosis_id",
			"diagnosis_confidence",
		]);
		if (query.q !== undefined && query.q !== "") {
			const pattern = `%${query.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
			q = q.where(sql<SqlBool>`search like ${pattern} escape '\\'`);
		}
		const cursor = query.cursor;
		if (cursor !== undefined)
			q = q.where((eb) =>
				eb.or([
					eb("time", "<", cursor.time),
					eb.and([eb("time", "=", cursor.time), eb("id", "<", cursor.id)]),
				]),
			);
		const rows = await q.orderBy("time", "desc").orderBy("id", "desc").limit(query.limit).execute();
		return rows.map(summary);
	}

	async expire(before: number): Promise<{ crashes: number; hostHours: number }> {
		// A thousand at a time: ingest waits for short transactions, not for one long one.
		const BATCH = 1000;
		let crashes = 0;
		for (;;) {
			const n = await this.#db.transaction().execute(async (trx) => {
				const ids = (
					await trx
						.selectFrom("crashes")
						.select("id")
						.where("received", "<", before)
						.limit(BATCH)
						.execute()
				).map((r) => r.id);
				if (ids.length === 0) return 0;
				await trx.deleteFrom("crash_attributes").where("crash_id", "in", ids).execute();
				await trx.deleteFrom("crashes").where("id", "in", ids).execute();
				return ids.length;
			});
			crashes += n;
			if (n < BATCH) break;
		}
		// The host-hours the fleet's rollups already count (only filters on two attributes read
		// them), a day at a time.
		const cutoff = floorTo(before, HOUR);
		// Written first: from now on no heartbeat adds to an hour that is being deleted.
		await this.#db
			.insertInto("host_hours_expired")
			.values({ id: 1, before: cutoff })
			.onConflict((oc) =>
				oc.column("id").doUpdateSet({
					before: later("excluded.before", "host_hours_expired.before"),
				}),
			)
			.execute();
		const oldest = await this.#db
			.selectFrom("host_hours")
			.select(sql<number | null>`min(hour)`.as("hour"))
			.executeTakeFirst();
		let hostHours = 0;
		for (let t = Number(oldest?.hour ?? cutoff); t < cutoff; t += DAY) {
			const until = Math.min(t + DAY, cutoff);
			hostHours += await this.#db.transaction().execute(async (trx) => {
				await trx.deleteFrom("host_hour_attrs").where("hour", "<", until).execute();
				const r = await trx.deleteFrom("host_hours").where("hour", "<", until).executeTakeFirst();
				return Number(r.numDeletedRows);
			});
		}
		return { crashes, hostHours };
	}

	async ping(): Promise<boolean> {
		try {
			await sql`select 1`.execute(this.#db);
			return true;
		} catch {
			return false;
		}
	}

	async close(): Promise<void> {
		await this.#db.destroy();
	}
}

/** A stored crash row, with its attributes, in full. */
function crashRecord(
	c: Parameters<typeof summary>[0] & {
		received: number;
		findings: string;
		raw: Uint8Array | null;
		raw_size: number;
	},
	attributes: readonly Pair[],
): CrashRecord {
	return {
		...summary(c),
		received: Number(c.received),
		attributes,
		findings: c.findings,
		raw: c.raw === null ? null : new Uint8Array(c.raw),
		rawSize: Number(c.raw_size),
	};
}

function summary(c: {
	id: string;
	kind: string;
	time: number;
	host: string;
	service: string;
	version: string;
	bucket: string;
	message: string | null;
	diagnosis_id: string | null;
	diagnosis_confidence: string | null;
}): CrashSummary {
	return {
		id: c.id,
		kind: c.kind as ReportKind,
		time: Number(c.time),
		host: c.host,
		service: c.service,
		version: c.version,
		bucket: c.bucket,
		message: c.message,
		diagnosis:
			c.diagnosis_id === null
				? null
				: { id: c.diagnosis_id, confidence: c.diagnosis_confidence ?? "" },
	};
}

/** Sums the counts of each attribute value over the parts of a window. */
function mergeCounts(
	parts: readonly (readonly { name: string; value: string; count: number }[])[],
): AttributeCounts["counts"] {
	const out = new Map<string, { attribute: string; value: string; count: number }>();
	for (const rows of parts)
		for (const r of rows) {
			const key = `${r.name}\0${r.value}`;
			const old = out.get(key);
			if (old === undefined)
				out.set(key, { attribute: r.name, value: r.value, count: Number(r.count) });
			else old.count += Number(r.count);
		}
	return [...out.values()];
}
