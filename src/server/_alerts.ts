import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
	type AlertTrigger,
	newBucketTriggers,
	rateTriggers,
	regressionTriggers,
} from "../fleet/index.js";
import type { AlertRule, ClaimedAlert, NewAlert, Store } from "../store/index.js";

const HOUR = 3_600_000;
/** How many hours back a rate rule looks: an hour missed while no server ran is still seen. */
const RATE_HOURS = 3;

/** How often alerts are looked for and sent, and how failed deliveries are retried. */
export interface AlertOptions {
	/** ms between evaluations of the rules. */
	readonly evaluateEvery: number;
	/** ms between looks for alerts due to be sent. */
	readonly deliverEvery: number;
	/** ms before the first retry; each later retry waits twice as long, at most an hour. */
	readonly backoff: number;
	/** Attempts before an alert is given up as failed. */
	readonly maxAttempts: number;
	/** ms a webhook has to answer. */
	readonly timeout: number;
}

/** The alert timing `gocrash serve` uses unless told otherwise. */
export const DEFAULT_ALERT_OPTIONS: AlertOptions = {
	evaluateEvery: 15_000,
	deliverEvery: 1_000,
	backoff: 5_000,
	maxAttempts: 10,
	timeout: 10_000,
};

interface Logger {
	info(object: object, message: string): void;
	warn(object: object, message: string): void;
}

/** What an alert's webhook says, beyond the trigger's facts. */
interface AlertDetails {
	readonly rule: { readonly id: string; readonly name: string };
	readonly bucket: {
		readonly id: string;
		readonly title: string;
		readonly diagnosis: { readonly id: string; readonly confidence: string } | null;
	};
	readonly facts: Readonly<Record<string, unknown>>;
}

/**
 * Evaluates the alert rules and delivers their alerts. Every server runs one: an alert's unique key
 * makes two evaluations store it once, and a lease makes one server send it.
 */
export class AlertRunner {
	readonly #store: Store;
	readonly #now: () => number;
	readonly #log: Logger;
	readonly #options: AlertOptions;
	readonly #owner = `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
	readonly #timers: NodeJS.Timeout[] = [];
	readonly #running = new Set<Promise<unknown>>();
	#stopped = false;

	constructor(store: Store, now: () => number, log: Logger, options: Partial<AlertOptions> = {}) {
		this.#store = store;
		this.#now = now;
		this.#log = log;
		this.#options = { ...DEFAULT_ALERT_OPTIONS, ...options };
	}

	/** Starts evaluating and delivering on timers. */
	start(): void {
		const every = (ms: number, work: () => Promise<unknown>) => {
			let busy = false;
			const timer = setInterval(() => {
				// A tick that finds the last one's work still going is skipped, not queued.
				if (busy || this.#stopped) return;
				busy = true;
				const run = work()
					.catch((error: unknown) =>
						this.#log.warn({ err: error }, "alerts: evaluation or delivery failed"),
					)
					.finally(() => {
						busy = false;
					});
				this.#running.add(run);
				void run.finally(() => this.#running.delete(run));
			}, ms);
			timer.unref();
			this.#timers.push(timer);
		};
		every(this.#options.evaluateEvery, () => this.evaluate());
		every(this.#options.deliverEvery, () => this.deliver());
	}

	/** Stops the timers and waits for the work in progress. */
	async stop(): Promise<void> {
		this.#stopped = true;
		for (const t of this.#timers) clearInterval(t);
		await Promise.all(this.#running);
	}

	/** Looks at every rule once; returns the alerts that were new. */
	async evaluate(): Promise<NewAlert[]> {
		const now = this.#now();
		const stored: NewAlert[] = [];
		for (const rule of await this.#store.alerts.listRules()) {
			const all = await this.#triggers(rule, now);
			// Most of what a rule finds it has alerted on before: only the rest is looked up and written.
			const known = await this.#store.alerts.knownKeys(all.map((t) => t.key));
			const triggers = all.filter((t) => !known.has(t.key));
			if (triggers.length === 0) continue;
			const alerts: NewAlert[] = [];
			for (const t of triggers) alerts.push(await this.#alert(rule, t, now));
			const added = await this.#store.alerts.addAlerts(alerts);
			for (const a of added)
				this.#log.info({ alert: a.id, rule: rule.id, event: a.event, bucket: a.bucket }, "alert");
			stored.push(...added);
		}
		return stored;
	}

	async #triggers(rule: AlertRule, now: number): Promise<AlertTrigger[]> {
		const store = this.#store;
		switch (rule.event) {
			case "new":
				return newBucketTriggers(
					rule,
					rule.service,
					await store.alerts.appearances(rule.service, rule.created),
				);
			case "regressed":
				return regressionTriggers(
					rule,
					await store.alerts.recentBucketVersions(rule.service, rule.created),
					await store.serviceVersions(rule.service ?? undefined),
					now,
				);
			case "rate": {
				const hour = now - (now % HOUR);
				const from = Math.max(rule.created - (rule.created % HOUR), hour - (RATE_HOURS - 1) * HOUR);
				const to = hour + HOUR;
				const counts = await store.alerts.bucketHourCounts(rule.service, from - HOUR, to);
				if (counts.length === 0) return [];
				const points = await store.rates(
					undefined,
					{
						kind: "fatal",
						from: from - HOUR,
						to,
						service: rule.service ?? undefined,
						attributes: [],
					},
					HOUR,
				);
				const hostHours = new Map(points.map((p) => [p.t, p.hostHours]));
				return rateTriggers(rule, rule.service, counts, hostHours, from);
			}
		}
	}

	async #alert(rule: AlertRule, trigger: AlertTrigger, now: number): Promise<NewAlert> {
		const bucket = await this.#store.getBucket(trigger.bucket, "fatal");
		const details: AlertDetails = {
			rule: { id: rule.id, name: rule.name },
			bucket: {
				id: trigger.bucket,
				title: bucket?.title ?? trigger.bucket,
				diagnosis: bucket?.diagnosis ?? null,
			},
			facts: trigger.facts,
		};
		return {
			id: randomBytes(8).toString("hex"),
			rule: rule.id,
			key: trigger.key,
			event: rule.event,
			service: trigger.service,
			bucket: trigger.bucket,
			created: now,
			details: JSON.stringify(details),
		};
	}

	/** Sends the alerts that are due; returns how many were tried. */
	async deliver(): Promise<number> {
		const now = this.#now();
		// The lease outlasts one attempt of every alert claimed, so none is sent twice at once.
		const claimed = await this.#store.alerts.claimAlerts(
			this.#owner,
			now,
			now + 10 * this.#options.timeout,
			8,
		);
		await Promise.all(claimed.map((a) => this.#send(a)));
		return claimed.length;
	}

	async #send(alert: ClaimedAlert): Promise<void> {
		let status: number | null = null;
		let error: string;
		try {
			const response = await fetch(alert.url, {
				method: "POST",
				headers: {
					"content-type": "application/json",
					"user-agent": "gocrash-alerts",
					"gocrash-alert-id": alert.id,
				},
				body: JSON.stringify(formatAlert(alert)),
				redirect: "manual",
				signal: AbortSignal.timeout(this.#options.timeout),
			});
			status = response.status;
			await response.body?.cancel();
			if (response.ok) {
				await this.#store.alerts.recordDelivery(alert.id, this.#owner, {
					ok: true,
					status,
					at: this.#now(),
				});
				return;
			}
			error = `the webhook answered ${status}`;
		} catch (e) {
			const cause = (e as { cause?: { code?: string; message?: string } }).cause;
			error =
				(e as Error).name === "TimeoutError"
					? `no answer within ${this.#options.timeout} ms`
					: cause?.message === "bad port"
						? `port ${new URL(alert.url).port} is one that fetch refuses to connect to`
						: (cause?.code ?? cause?.message ?? (e as Error).message);
		}
		const at = this.#now();
		const attempts = alert.attempts + 1;
		const retryAt =
			attempts >= this.#options.maxAttempts
				? null
				: at + Math.min(HOUR, this.#options.backoff * 2 ** (attempts - 1));
		this.#log.warn({ alert: alert.id, attempts, status, error }, "alert delivery failed");
		await this.#store.alerts.recordDelivery(alert.id, this.#owner, {
			ok: false,
			status,
			error,
			at,
			retryAt,
		});
	}
}

const EVENT_TITLES = {
	new: "New crash bucket",
	regressed: "Crash bucket regressed",
	rate: "Crash rate over threshold",
} as const;

/** The webhook body of an alert: gocrash's JSON, or a Slack incoming-webhook message. */
export function formatAlert(alert: ClaimedAlert): Record<string, unknown> {
	const details = JSON.parse(alert.details) as AlertDetails;
	if (alert.format === "json")
		return {
			alert: {
				id: alert.id,
				event: alert.event,
				created: new Date(alert.created).toISOString(),
				rule: details.rule,
				service: alert.service,
				bucket: details.bucket,
				...details.facts,
			},
		};
	const f = details.facts;
	const where = alert.service === null ? "" : ` in \`${alert.service}\``;
	const what =
		alert.event === "regressed"
			? `back in version \`${String(f.version)}\` after \`${(f.absentIn as string[]).join(", ")}\` had none (last seen in \`${String(f.lastBefore)}\`)`
			: alert.event === "rate"
				? `${String(f.count)} crashes on ${String(f.hostHours)} hosts in the hour from ${String(f.hour)}: ${(f.perHostHour as number).toPrecision(3)} per host-hour, over ${String(f.threshold)}`
				: `first seen ${String(f.firstSeen)}`;
	const diagnosis =
		details.bucket.diagnosis === null
			? ""
			: `\nDiagnosis: ${details.bucket.diagnosis.id} (${details.bucket.diagnosis.confidence})`;
	return {
		text: `*${EVENT_TITLES[alert.event]}*${where}: ${escapeSlack(details.bucket.title)}\n${what}${diagnosis}\nBucket \`${details.bucket.id}\` · rule ${escapeSlack(details.rule.name)}`,
	};
}

/** Slack's three control characters, escaped as its message format asks. */
const escapeSlack = (text: string): string =>
	text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
