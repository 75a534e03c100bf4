import { type Kysely, type Migration, Migrator } from "kysely";
import type { Database } from "./_schema.js";
import { initialSchema } from "./migrations/001-initial.js";
import { alertSchema } from "./migrations/002-alerts.js";
import { dayRollups } from "./migrations/003-day-rollups.js";
import { expiredHours } from "./migrations/004-expired-hours.js";
import { streamTails } from "./migrations/005-stream-tails.js";
import { versionHostHours } from "./migrations/006-version-host-hours.js";
import { hostOrder } from "./migrations/007-host-order.js";
import { attributeCrashes } from "./migrations/008-attribute-crashes.js";
import { hostSpans } from "./migrations/009-host-spans.js";

/** Brings the database to the newest schema; several servers may call it at once on PostgreSQL. */
export async function migrate(db: Kysely<Database>, binaryType: "blob" | "bytea"): Promise<void> {
	const migrations: Record<string, Migration> = {
		"001-initial": initialSchema(binaryType),
		"002-alerts": alertSchema,
		"003-day-rollups": dayRollups(binaryType),
		"004-expired-hours": expiredHours,
		"005-stream-tails": streamTails,
		"006-version-host-hours": versionHostHours,
		"007-host-order": hostOrder,
		"008-attribute-crashes": attributeCrashes,
		"009-host-spans": hostSpans(binaryType),
	};
	const migrator = new Migrator({
		db,
		provider: { getMigrations: async () => migrations },
	});
	const { error, results } = await migrator.migrateToLatest();
	if (error !== undefined) {
		const failed = results?.find((r) => r.status === "Error")?.migrationName;
		const reason = error instanceof Error ? error.message : String(error);
		const newer = /previously executed migration (\S+) is missing/.exec(reason);
		if (newer !== null)
			throw new StoreError(
				`the database's schema is newer than this gocrash's (it has migration ${newer[1]}, which this version does not know): upgrade gocrash`,
			);
		throw new StoreError(`migration ${failed ?? "(unknown)"} failed: ${reason}`);
	}
}

/** A database that cannot be opened or brought to the schema; the message says which and why. */
export class StoreError extends Error {
	override readonly name = "StoreError";
}
