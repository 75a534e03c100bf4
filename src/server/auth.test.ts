import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { openSqliteStore } from "../store/sqlite/index.js";
import { hashToken, newToken, TokenLookup } from "./_auth.js";

const dir = mkdtempSync(join(tmpdir(), "gocrash-auth-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("knows a token made after a lookup missed it, and keeps knowing a found one for ten seconds", async () => {
	const store = await openSqliteStore(join(dir, "tokens.db"));
	try {
		let now = 1_000_000;
		const tokens = new TokenLookup(store, () => now);
		const { secret, record } = newToken("ingest", "ci", now);
		expect(await tokens.find(hashToken(secret))).toBeNull();
		await store.createToken(record);
		expect(await tokens.find(hashToken(secret))).toEqual(record);
		// Known without the store: found again while the store is closed.
		await store.close();
		now += 9_999;
		expect(await tokens.find(hashToken(secret))).toEqual(record);
		now += 1;
		await expect(tokens.find(hashToken(secret))).rejects.toThrow();
	} finally {
		await store.close().catch(() => undefined);
	}
});
