import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startPostgres, type TestPostgres } from "../../test/postgres.js";
import { windowParts } from "./_day-rollups.js";
import { sampleCrashes, sampleHeartbeats } from "./conformance.js";
import { fillDayRollups } from "./migrations/003-day-rollups.js";
import { countVersionHostHours } from "./migrations/006-version-host-hours.js";
import { fillAttributeCrashes } from "./migrations/008-attribute-crashes.js";
import { fillHostSpans } from "./migrations/009-host-spans.js";
import { openPostgresStore } from "./postgres/index.js";
import { openSqliteStore } from "./sqlite/index.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const D = Date.UTC(2026, 10, 2);

describe("windowParts", () => {
	it.each([
		["inside one day", D + 3 * HOUR, D + 7 * HOUR, null, [[D + 3 * HOUR, D + 7 * HOUR]]],
		["one whole day", D, D + DAY, [D, D + DAY], []],
		[
			"a day and its neighbours' hours",
			D - 2 * HOUR,
			D + DAY + HOUR,
			[D, D + DAY],
			[
				[D - 2 * HOUR, D],
				[D + DAY, D + DAY + HOUR],
			],
		],
		[
			"23 hours across midnight",
			D - 20 * HOUR,
			D + 3 * HOUR,
			null,
			[[D - 20 * HOUR, D + 3 * HOUR]],
		],
		[
			"a week ending inside a day",
			D - 7 * DAY + 9 * HOUR,
			D + 9 * HOUR,
			[D - 6 * DAY, D],
			[
				[D - 7 * DAY + 9 * HOUR, D - 6 * DAY],
				[D, D + 9 * HOUR],
			],
		],
		// Rollups count an hour when it starts before `to`, and from the hour `from` falls in.
		["times inside hours", D + 90 * 60_000, D + 4 * HOUR + 1, null, [[D + HOUR, D + 5 * HOUR]]],
	] as const)("%s", (_, from, to, days, hours) => {
		expect(windowParts(from, to)).toEqual({ days, hours });
	});

	it("covers every hour of a window once", () => {
		for (let from = D - 50 * HOUR; from < D + 30 * HOUR; from += 7 * HOUR)
			for (let to = from + HOUR; to < from + 80 * HOUR; to += 5 * HOUR) {
				const { days, hours } = windowParts(from, to);
				const covered: number[] = [];
				for (const [a, b] of [...hours, ...(days === null ? [] : [days])])
					for (let h = a; h < b; h += HOUR) covered.push(h);
				const expected: number[] = [];
				for (let h = from; h < to; h += HOUR) expected.push(h);
				expect(covered.sort((a, b) => a - b)).toEqual(expected);
				if (days !== null) expect([days[0] % DAY, days[1] % DAY]).toEqual([0, 0]);
			}
	});
});

const TABLES = [
	"crash_hours",
	"bucket_days",
	"attr_hours",
	"attr_days",
	"bucket_attr_days",
	"fleet_attr_days",
] as const;

/** Every row of the tables of migration 003, in one order. */
async function snapshot(
	db: Kysely<unknown>,
	tables: readonly string[] = TABLES,
): Promise<Record<string, unknown[]>> {
	const out: Record<string, unknown[]> = {};
	for (const table of tables) {
		const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
			db,
		);
		out[table] = rows
			.map((r) => JSON.stringify(Object.entries(r).map(([k, v]) => [k, String(v)])))
			.sort();
	}
	return out;
}

// The rollups migration 003 fills from the hourly ones of a database that has crashes and
// heartbeats are the ones the write path keeps; so are the version host-hours migration 006 counts
// and the crash attributes' columns and host spans that migrations 008 and 009 fill.
describe.each(["sqlite", "postgres"] as const)(
	"migrations 003, 006, 008 and 009 on %s",
	(dialect) => {
		let server: TestPostgres | undefined;
		const dir = mkdtempSync(join(tmpdir(), "gocrash-day-rollups-"));
		afterAll(async () => {
			await server?.stop();
			rmSync(dir, { recursive: true, force: true });
		});

		// A new store with crashes and heartbeats, and a second connection to its database.
		async function filled(name: string) {
			let db: Kysely<unknown>;
			let store: Awaited<ReturnType<typeof openSqliteStore>>;
			if (dialect === "sqlite") {
				const path = join(dir, `${name}.db`);
				store = await openSqliteStore(path);
				db = new Kysely({ dialect: new SqliteDialect({ database: new Sqlite(path) }) });
			} else {
				server ??= await startPostgres();
				const admin = new Kysely({
					dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: server.url }) }),
				});
				await sql`create database ${sql.id(name)}`.execute(admin);
				await admin.destroy();
				const url = server.url.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
				store = await openPostgresStore(url);
				db = new Kysely({
					dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }),
				});
			}
			const crashes = sampleCrashes(500, 7);
			await store.insertCrashes(crashes.slice(0, 200));
			await store.insertCrashes(crashes.slice(200));
			const heartbeats = sampleHeartbeats();
			await store.insertHeartbeats(heartbeats.slice(0, 900));
			await store.insertHeartbeats(heartbeats.slice(600));
			return { store, db };
		}

		it("003 fills the day rollups as ingest writes them", async () => {
			const { store, db } = await filled("rollups");
			try {
				const written = await snapshot(db);
				expect(written.attr_days?.length).toBeGreaterThan(0);
				expect(written.fleet_attr_days?.length).toBeGreaterThan(0);
				for (const table of TABLES) await sql`delete from ${sql.table(table)}`.execute(db);
				await fillDayRollups(db);
				expect(await snapshot(db)).toEqual(written);
			} finally {
				await store.close();
				await db.destroy();
			}
		});

		it("006 counts each version's host-hours as ingest does", async () => {
			const { store, db } = await filled("versions");
			try {
				const written = await store.serviceVersions(undefined);
				expect(written.filter((v) => v.hostHours > 0).length).toBeGreaterThan(1);
				await sql`update service_versions set host_hours = 0`.execute(db);
				await countVersionHostHours(db);
				expect(await store.serviceVersions(undefined)).toEqual(written);
			} finally {
				await store.close();
				await db.destroy();
			}
		});

		it("008 gives each crash attribute its crash's kind, time, bucket and host as ingest does", async () => {
			const { store, db } = await filled("attributes");
			try {
				const written = await snapshot(db, ["crash_attributes"]);
				expect(written.crash_attributes?.length).toBeGreaterThan(1000);
				await sql`update crash_attributes set kind = '', time = 0, bucket = '', host = ''`.execute(
					db,
				);
				await fillAttributeCrashes(db);
				expect(await snapshot(db, ["crash_attributes"])).toEqual(written);
			} finally {
				await store.close();
				await db.destroy();
			}
		});

		it("009 writes each host's span in each bucket as ingest does", async () => {
			const { store, db } = await filled("spans");
			try {
				const written = await snapshot(db, ["bucket_hosts"]);
				expect(written.bucket_hosts?.length).toBeGreaterThan(40);
				await sql`delete from bucket_hosts`.execute(db);
				await fillHostSpans(db);
				expect(await snapshot(db, ["bucket_hosts"])).toEqual(written);
			} finally {
				await store.close();
				await db.destroy();
			}
		});
	},
);
