import { existsSync } from "node:fs";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startPostgres } from "./postgres.js";

describe("the tests' own PostgreSQL", () => {
	it("starts on a private port, answers queries, and is gone after stop", async () => {
		const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
		try {
			expect(existsSync(a.dir)).toBe(true);
			expect(new URL(a.url).port).not.toBe(new URL(b.url).port);
			const client = new pg.Client({ connectionString: a.url });
			await client.connect();
			await client.query("create table t (x int)");
			await client.query("insert into t values (1), (2)");
			expect((await client.query("select sum(x)::int as s from t")).rows).toEqual([{ s: 3 }]);
			await client.end();
		} finally {
			await Promise.all([a.stop(), b.stop()]);
		}
		const other = new pg.Client({ connectionString: a.url, connectionTimeoutMillis: 2000 });
		await expect(other.connect()).rejects.toThrow();
		expect(existsSync(a.dir)).toBe(false);
	});
});
