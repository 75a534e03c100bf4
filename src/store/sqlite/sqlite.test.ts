import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect, test } from "vitest";
import { storeConformance } from "../conformance.js";
import { openSqliteStore } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "gocrash-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeConformance("sqlite", (other) => openSqliteStore(join(dir, `${other ?? "gocrash"}.db`)));

test("refuses a database that a newer gocrash migrated, saying so", async () => {
	const file = join(dir, "newer.db");
	await (await openSqliteStore(file)).close();
	const db = new Database(file);
	db.prepare("insert into kysely_migration (name, timestamp) values (?, ?)").run(
		"999-from-the-future",
		new Date().toISOString(),
	);
	db.close();
	await expect(openSqliteStore(file)).rejects.toThrow(
		/^the database's schema is newer than this gocrash's \(it has migration 999-from-the-future, which this version does not know\): upgrade gocrash$/,
	);
});
