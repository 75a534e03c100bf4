import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { startPostgres, type TestPostgres } from "../../../test/postgres.js";
import { storeConformance } from "../conformance.js";
import { openPostgresStore } from "./index.js";

let server: TestPostgres;
beforeAll(async () => {
	server = await startPostgres();
});
afterAll(async () => server?.stop());

storeConformance("postgres", async (other) => {
	if (other === undefined) return openPostgresStore(server.url);
	const admin = new pg.Client({ connectionString: server.url });
	await admin.connect();
	try {
		await admin.query(`create database gocrash_${other}`);
	} finally {
		await admin.end();
	}
	return openPostgresStore(server.url.replace(/\/gocrash$/, `/gocrash_${other}`));
});
