import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { storeConformance } from "../conformance.js";
import { openSqliteStore } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "gocrash-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeConformance("sqlite", () => openSqliteStore(join(dir, "gocrash.db")));
