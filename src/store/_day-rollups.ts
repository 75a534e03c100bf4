import { sql, type Transaction } from "kysely";
import type { Database } from "./_schema.js";

const DAY = 86_400_000;
// Rows per multi-row statement, as the write path's other rollups.
const CHUNK = 400;

/** A counted row of one of the write path's hourly tallies. */
interface Counted<R> {
	readonly row: R;
	readonly n: number;
}

type DayTable = "crash_hours" | "bucket_days" | "attr_hours" | "attr_days" | "bucket_attr_days";

/** Sums counts under each key; rows come out sorted by key, so concurrent writers lock in one order. */
class Sums<R extends Record<string, string | number>> {
	readonly #rows = new Map<string, { row: R; n: number }>();
	constructor(readonly keys: readonly (keyof R & string)[]) {}
	add(row: R, n: number): void {
		const key = this.keys.map((k) => row[k]).join("\0");
		const old = this.#rows.get(key);
		if (old === undefined) this.#rows.set(key, { row, n });
		else old.n += n;
	}
	sorted(): { row: R; n: number }[] {
		return [...this.#rows.entries()]
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
			.map(([, v]) => v);
	}
}

async function upsert<R extends Record<string, string | number>>(
	trx: Transaction<Database>,
	table: DayTable | "fleet_attr_days",
	sums: Sums<R>,
	column: "count" | "hosts",
): Promise<void> {
	const rows = sums.sorted().map(({ row, n }) => ({ ...row, [column]: n }));
	// The tables differ in their columns only: the typed builder cannot name one of several.
	for (let i = 0; i < rows.length; i += CHUNK)
		await trx
			.insertInto(table)
			.values(rows.slice(i, i + CHUNK) as never)
			.onConflict((oc) =>
				oc.columns(sums.keys as never).doUpdateSet({
					[column]: sql`${sql.ref(`${table}.${column}`)} + ${sql.ref(`excluded.${column}`)}`,
				} as never),
			)
			.execute();
}

/**
 * Adds a transaction's crashes, as the write path tallied them per bucket and hour, to the
 * rollups over every bucket and per day (migration 003).
 */
export async function addDayRollups(
	trx: Transaction<Database>,
	hours: readonly Counted<{ bucket: string; kind: string; hour: number; service: string }>[],
	attrHours: readonly Counted<{
		bucket: string;
		kind: string;
		hour: number;
		name: string;
		value: string;
	}>[],
): Promise<void> {
	const crashHours = new Sums<{ kind: string; hour: number; service: string }>([
		"kind",
		"hour",
		"service",
	]);
	const bucketDays = new Sums<{ kind: string; day: number; bucket: string; service: string }>([
		"kind",
		"day",
		"bucket",
		"service",
	]);
	for (const { row, n } of hours) {
		crashHours.add({ kind: row.kind, hour: row.hour, service: row.service }, n);
		const day = row.hour - (row.hour % DAY);
		bucketDays.add({ kind: row.kind, day, bucket: row.bucket, service: row.service }, n);
	}
	const attrs = new Sums<{ kind: string; hour: number; name: string; value: string }>([
		"kind",
		"hour",
		"name",
		"value",
	]);
	const attrDays = new Sums<{ kind: string; day: number; name: string; value: string }>([
		"kind",
		"day",
		"name",
		"value",
	]);
	const bucketAttrDays = new Sums<{
		bucket: string;
		kind: string;
		day: number;
		name: string;
		value: string;
	}>(["bucket", "kind", "day", "name", "value"]);
	for (const { row, n } of attrHours) {
		const { kind, name, value } = row;
		const day = row.hour - (row.hour % DAY);
		attrs.add({ kind, hour: row.hour, name, value }, n);
		attrDays.add({ kind, day, name, value }, n);
		bucketAttrDays.add({ bucket: row.bucket, kind, day, name, value }, n);
	}
	await upsert(trx, "crash_hours", crashHours, "count");
	await upsert(trx, "bucket_days", bucketDays, "count");
	await upsert(trx, "attr_hours", attrs, "count");
	await upsert(trx, "attr_days", attrDays, "count");
	await upsert(trx, "bucket_attr_days", bucketAttrDays, "count");
}

/** Adds the host-hours that a transaction's heartbeats added per attribute value to their day. */
export async function addFleetDays(
	trx: Transaction<Database>,
	fleetAttrs: readonly Counted<{ hour: number; service: string; name: string; value: string }>[],
): Promise<void> {
	const days = new Sums<{ day: number; service: string; name: string; value: string }>([
		"day",
		"service",
		"name",
		"value",
	]);
	for (const { row, n } of fleetAttrs)
		days.add(
			{ day: row.hour - (row.hour % DAY), service: row.service, name: row.name, value: row.value },
			n,
		);
	await upsert(trx, "fleet_attr_days", days, "hosts");
}

/**
 * A window of whole hours `[from, to)` as the rollups read it: the whole days inside it from the
 * daily rollups, and the hours before the first and after the last whole day from the hourly ones.
 */
export function windowParts(
	from: number,
	to: number,
): { days: readonly [number, number] | null; hours: readonly (readonly [number, number])[] } {
	const HOUR = 3_600_000;
	const start = from - (((from % HOUR) + HOUR) % HOUR);
	// An hour counts when it starts before `to`: the window ends at the end of that hour.
	const end = to - (((to % HOUR) + HOUR) % HOUR) + (to % HOUR === 0 ? 0 : HOUR);
	const firstDay = start + ((DAY - (((start % DAY) + DAY) % DAY)) % DAY);
	const lastDay = end - (((end % DAY) + DAY) % DAY);
	if (firstDay >= lastDay) return { days: null, hours: start < end ? [[start, end]] : [] };
	const hours: [number, number][] = [];
	if (start < firstDay) hours.push([start, firstDay]);
	if (lastDay < end) hours.push([lastDay, end]);
	return { days: [firstDay, lastDay], hours };
}
