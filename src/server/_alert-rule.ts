import { randomBytes } from "node:crypto";
import {
	ALERT_EVENTS,
	ALERT_FORMATS,
	type AlertEvent,
	type AlertFormat,
	type AlertRule,
} from "../store/index.js";

/** A rule as a request or the command line gives it, before it is checked. */
export interface AlertRuleFields {
	readonly name?: unknown;
	readonly service?: unknown;
	readonly event?: unknown;
	readonly threshold?: unknown;
	readonly minCount?: unknown;
	readonly url?: unknown;
	readonly format?: unknown;
}

/** Checks a rule's fields: the rule to store, or what is wrong with them (field first). */
export function readAlertRule(
	fields: AlertRuleFields,
	now: number,
): { rule: AlertRule } | { problem: string } {
	const event = fields.event;
	if (typeof event !== "string" || !(ALERT_EVENTS as readonly string[]).includes(event))
		return { problem: `event: give ${ALERT_EVENTS.join(", ")}` };
	const url = typeof fields.url === "string" ? parseUrl(fields.url) : null;
	if (url === null) return { problem: "url: give the webhook's http:// or https:// URL" };
	const service = fields.service ?? null;
	if (service !== null && (typeof service !== "string" || service === "" || service.length > 200))
		return { problem: "service: a service name of 1 to 200 characters, or none for every service" };
	const format = fields.format ?? (url.hostname === "hooks.slack.com" ? "slack" : "json");
	if (typeof format !== "string" || !(ALERT_FORMATS as readonly string[]).includes(format))
		return { problem: `format: give ${ALERT_FORMATS.join(" or ")}` };
	let threshold: number | null = null;
	let minCount = 1;
	if (event === "rate") {
		const t = fields.threshold;
		if (typeof t !== "number" || !Number.isFinite(t) || t <= 0)
			return { problem: "threshold: a rate rule needs fatal crashes per host-hour, above 0" };
		threshold = t;
		const m = fields.minCount ?? 1;
		if (typeof m !== "number" || !Number.isInteger(m) || m < 1 || m > 1e9)
			return { problem: "minCount: a whole number of crashes, at least 1" };
		minCount = m;
	} else if (fields.threshold !== undefined || fields.minCount !== undefined)
		return { problem: `threshold, minCount: only a rate rule has them, not a ${event} rule` };
	const name = fields.name ?? `${event} in ${service ?? "every service"}`;
	if (typeof name !== "string" || name === "" || name.length > 100)
		return { problem: "name: 1 to 100 characters" };
	return {
		rule: {
			id: randomBytes(6).toString("hex"),
			name,
			service,
			event: event as AlertEvent,
			threshold,
			minCount,
			url: url.href,
			format: format as AlertFormat,
			created: now,
		},
	};
}

function parseUrl(text: string): URL | null {
	if (text.length > 2000) return null;
	try {
		const url = new URL(text);
		return url.protocol === "http:" || url.protocol === "https:" ? url : null;
	} catch {
		return null;
	}
}

/** A webhook URL as lists show it: its origin only, since the rest is often the secret. */
export function redactUrl(url: string): string {
	const u = new URL(url);
	return u.pathname === "/" && u.search === "" ? u.origin : `${u.origin}/…`;
}

/** A rule as the API and the command line show it. */
export function alertRuleJson(rule: AlertRule): Record<string, unknown> {
	return {
		id: rule.id,
		name: rule.name,
		service: rule.service,
		event: rule.event,
		threshold: rule.threshold,
		minCount: rule.event === "rate" ? rule.minCount : null,
		url: redactUrl(rule.url),
		format: rule.format,
		created: new Date(rule.created).toISOString(),
	};
}
