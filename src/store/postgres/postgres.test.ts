import { afterAll, beforeAll } from "vitest";
import { startPostgres, type TestPostgres } from "../../../test/postgres.js";
import { storeConformance } from "../conformance.js";
import { openPostgresStore } from "./index.js";

let server: TestPostgres;
beforeAll(async () => {
	server = await startPostgres();
});
afterAll(async () => server?.stop());

storeConformance("postgres", () => openPostgresStore(server.url));
