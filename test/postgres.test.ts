import { existsSync, statSync } from "node:fs";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startPostgres, type TestPostgres } from "./postgres.js";

const started: TestPostgres[] = [];
afterAll(async () => {
	await Promise.all(started.map((s) => s.stop()));
});

describe("the tests' own PostgreSQL", () => {
	it("starts two servers at once on their own ports, answers queries, and is gone after stop", async () => {
		const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
		started.push(a, b);
		expect(new URL(a.url).port).not.toBe(new URL(b.url).port);
		expect(a.dir).not.toBe(b.dir);
		// Not root's: PostgreSQL refuses to run as root.
		if (process.getuid?.() === 0) expect(statSync(a.dir).uid).not.toBe(0);
		for (const server of [a, b]) {
			const client = new pg.Client({ connectionString: server.url });
			await client.connect();
			try {
				await client.query("create table t (x int primary key, label text not null)");
				await client.query("insert into t values (1, 'one'), (2, 'two')");
				const { rows } = await client.query("select x, label from t order by x");
				expect(rows).toEqual([
					{ x: 1, label: "one" },
					{ x: 2, label: "two" },
				]);
				const db = await client.query(
					"select current_database() as db, current_setting('fsync') as fsync",
				);
				expect(db.rows).toEqual([{ db: "gocrash", fsync: "off" }]);
			} finally {
				await client.end();
			}
		}
		await a.stop();
		expect(existsSync(a.dir)).toBe(false);
		const gone = new pg.Client({ connectionString: a.url, connectionTimeoutMillis: 2000 });
		await expect(gone.connect()).rejects.toThrow();
		// The other server is untouched by the first one's stop.
		const client = new pg.Client({ connectionString: b.url });
		await client.connect();
		expect((await client.query("select count(*)::int as n from t")).rows).toEqual([{ n: 2 }]);
		await client.end();
		await Promise.all([b.stop(), b.stop()]);
		expect(existsSync(b.dir)).toBe(false);
	});
});
