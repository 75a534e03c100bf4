import { type Kysely, sql } from "kysely";
import type {
	AlertEvent,
	AlertFormat,
	AlertRecord,
	AlertRule,
	AlertState,
	AlertStore,
	BucketAppearance,
	BucketHourCount,
	ClaimedAlert,
	DeliveryOutcome,
	NewAlert,
} from "./_alert-types.js";
import { groupBucketVersions } from "./_bucket-versions.js";
import type { Database } from "./_schema.js";
import type { BucketVersion } from "./_types.js";

type AlertRow = Database["alerts"];

function alertRecord(r: AlertRow): AlertRecord {
	return {
		id: r.id,
		rule: r.rule,
		key: r.key,
		event: r.event as AlertEvent,
		service: r.service,
		bucket: r.bucket,
		created: r.created,
		details: r.details,
		state: r.state as AlertState,
		attempts: r.attempts,
		nextAttempt: r.next_attempt,
		lastStatus: r.last_status,
		lastError: r.last_error,
		sentAt: r.sent_at,
	};
}

/** Alert rules and alerts over a Kysely database: one set of queries for SQLite and PostgreSQL. */
export class KyselyAlertStore implements AlertStore {
	readonly #db: Kysely<Database>;
	readonly #rowLocks: boolean;

	/** `rowLocks`: the database locks rows (PostgreSQL), where SQLite runs one writer at a time. */
	constructor(db: Kysely<Database>, rowLocks: boolean) {
		this.#db = db;
		this.#rowLocks = rowLocks;
	}

	async createRule(rule: AlertRule): Promise<void> {
		await this.#db
			.insertInto("alert_rules")
			.values({
				id: rule.id,
				name: rule.name,
				service: rule.service,
				event: rule.event,
				threshold: rule.threshold,
				min_count: rule.minCount,
				url: rule.url,
				format: rule.format,
				created: rule.created,
			})
			.execute();
	}

	async listRules(): Promise<AlertRule[]> {
		const rows = await this.#db
			.selectFrom("alert_rules")
			.selectAll()
			.orderBy("created")
			.orderBy("id")
			.execute();
		return rows.map((r) => ({
			id: r.id,
			name: r.name,
			service: r.service,
			event: r.event as AlertEvent,
			threshold: r.threshold,
			minCount: r.min_count,
			url: r.url,
			format: r.format as AlertFormat,
			created: r.created,
		}));
	}

	async deleteRule(id: string): Promise<boolean> {
		return this.#db.transaction().execute(async (trx) => {
			const deleted = await trx.deleteFrom("alert_rules").where("id", "=", id).executeTakeFirst();
			if (deleted.numDeletedRows === 0n) return false;
			await trx
				.updateTable("alerts")
				.set({ state: "cancelled", lease_owner: null, lease_until: null })
				.where("rule", "=", id)
				.where("state", "=", "pending")
				.execute();
			return true;
		});
	}

	async knownKeys(keys: readonly string[]): Promise<Set<string>> {
		const known = new Set<string>();
		// In parts, far below SQLite's 32,766 bound parameters.
		for (let i = 0; i < keys.length; i += 500) {
			const rows = await this.#db
				.selectFrom("alerts")
				.select("key")
				.where("key", "in", keys.slice(i, i + 500))
				.execute();
			for (const r of rows) known.add(r.key);
		}
		return known;
	}

	async addAlerts(alerts: readonly NewAlert[]): Promise<NewAlert[]> {
		const stored: NewAlert[] = [];
		// One statement per alert: which keys were new is what the caller needs, and alerts are few.
		for (const a of alerts) {
			const result = await this.#db
				.insertInto("alerts")
				.values({
					id: a.id,
					rule: a.rule,
					key: a.key,
					event: a.event,
					service: a.service,
					bucket: a.bucket,
					created: a.created,
					details: a.details,
					state: "pending",
					attempts: 0,
					next_attempt: a.created,
					lease_owner: null,
					lease_until: null,
					last_status: null,
					last_error: null,
					sent_at: null,
				})
				.onConflict((oc) => oc.column("key").doNothing())
				.executeTakeFirst();
			if ((result.numInsertedOrUpdatedRows ?? 0n) > 0n) stored.push(a);
		}
		return stored;
	}

	async claimAlerts(
		owner: string,
		now: number,
		until: number,
		limit: number,
	): Promise<ClaimedAlert[]> {
		// The row's own conditions are in the outer WHERE too: PostgreSQL checks them again on a row
		// that another server leased meanwhile, so no two claims hold one alert's lease. There, rows
		// that another claim has locked are skipped rather than waited for (or a claim made at the
		// same moment as another would find those leased and take none of the other due ones), and
		// the due rows are chosen once, in a WITH: as a subquery of the UPDATE, PostgreSQL may run
		// them again for each row and, skipping the rows it has just leased, lease more than `limit`.
		const rows = await this.#db
			.with("due", (db) =>
				db
					.selectFrom("alerts")
					.select("id")
					.where("state", "=", "pending")
					.where("next_attempt", "<=", now)
					.where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<", now)]))
					.orderBy("next_attempt")
					.limit(limit)
					.$if(this.#rowLocks, (q) => q.forUpdate().skipLocked()),
			)
			.updateTable("alerts")
			.set({ lease_owner: owner, lease_until: until })
			.where("id", "in", (eb) => eb.selectFrom("due").select("id"))
			.where("state", "=", "pending")
			.where("next_attempt", "<=", now)
			.where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<", now)]))
			.returningAll()
			.execute();
		if (rows.length === 0) return [];
		const rules = new Map(
			(
				await this.#db
					.selectFrom("alert_rules")
					.select(["id", "url", "format"])
					.where("id", "in", [...new Set(rows.map((r) => r.rule))])
					.execute()
			).map((r) => [r.id, r]),
		);
		const claimed: ClaimedAlert[] = [];
		for (const r of rows.sort(
			(a, b) => a.next_attempt - b.next_attempt || (a.id < b.id ? -1 : 1),
		)) {
			const rule = rules.get(r.rule);
			// A rule deleted meanwhile: its alert is cancelled by the deletion, not sent.
			if (rule !== undefined)
				claimed.push({ ...alertRecord(r), url: rule.url, format: rule.format as AlertFormat });
		}
		return claimed;
	}

	async recordDelivery(id: string, owner: string, outcome: DeliveryOutcome): Promise<void> {
		const attempt = this.#db
			.updateTable("alerts")
			.where("id", "=", id)
			.where("lease_owner", "=", owner)
			.where("state", "=", "pending");
		const common = {
			attempts: sql<number>`attempts + 1`,
			last_status: outcome.status,
			lease_owner: null,
			lease_until: null,
		};
		if (outcome.ok)
			await attempt
				.set({ ...common, state: "sent", last_error: null, sent_at: outcome.at })
				.execute();
		else
			await attempt
				.set({
					...common,
					state: outcome.retryAt === null ? "failed" : "pending",
					last_error: outcome.error,
					next_attempt: outcome.retryAt ?? outcome.at,
				})
				.execute();
	}

	async listAlerts(query: {
		readonly rule?: string | undefined;
		readonly state?: AlertState | undefined;
		readonly cursor?: { readonly created: number; readonly id: string } | undefined;
		readonly limit: number;
	}): Promise<AlertRecord[]> {
		let q = this.#db.selectFrom("alerts").selectAll();
		if (query.rule !== undefined) q = q.where("rule", "=", query.rule);
		if (query.state !== undefined) q = q.where("state", "=", query.state);
		const cursor = query.cursor;
		if (cursor !== undefined)
			q = q.where((eb) =>
				eb.or([
					eb("created", "<", cursor.created),
					eb.and([eb("created", "=", cursor.created), eb("id", "<", cursor.id)]),
				]),
			);
		const rows = await q
			.orderBy("created", "desc")
			.orderBy("id", "desc")
			.limit(query.limit)
			.execute();
		return rows.map(alertRecord);
	}

	async appearances(service: string | null, since: number): Promise<BucketAppearance[]> {
		let q = this.#db
			.selectFrom("bucket_versions")
			.select(["bucket", sql<number>`min(first_seen)`.as("first_seen")])
			.where("kind", "=", "fatal");
		if (service !== null) q = q.where("service", "=", service);
		const rows = await q
			.groupBy("bucket")
			.having(sql<number>`min(first_seen)`, ">=", since)
			.orderBy("bucket")
			.execute();
		return rows.map((r) => ({ bucket: r.bucket, firstSeen: Number(r.first_seen) }));
	}

	async recentBucketVersions(
		service: string | null,
		since: number,
	): Promise<Map<string, BucketVersion[]>> {
		let recent = this.#db
			.selectFrom("bucket_versions")
			.select("bucket")
			.where("kind", "=", "fatal")
			.where("first_seen", ">=", since);
		if (service !== null) recent = recent.where("service", "=", service);
		let q = this.#db
			.selectFrom("bucket_versions")
			.selectAll()
			.where("kind", "=", "fatal")
			.where("bucket", "in", recent);
		if (service !== null) q = q.where("service", "=", service);
		return groupBucketVersions(await q.orderBy("bucket").orderBy("first_seen").execute());
	}

	async bucketHourCounts(
		service: string | null,
		from: number,
		to: number,
	): Promise<BucketHourCount[]> {
		let q = this.#db
			.selectFrom("bucket_hours")
			.select(["bucket", "hour", sql<number>`cast(sum(${sql.ref("count")}) as bigint)`.as("count")])
			.where("kind", "=", "fatal")
			.where("hour", ">=", from)
			.where("hour", "<", to);
		if (service !== null) q = q.where("service", "=", service);
		const rows = await q.groupBy(["bucket", "hour"]).orderBy("bucket").orderBy("hour").execute();
		return rows.map((r) => ({ bucket: r.bucket, hour: r.hour, count: Number(r.count) }));
	}
}
