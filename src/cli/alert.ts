import { alertJson, alertRuleJson, readAlertRule } from "../server/index.js";
import type { AlertState, Store } from "../store/index.js";
import type { Command, Io } from "./_io.js";
import { InputError, parseCommandArgs, UsageError } from "./_io.js";
import { openCliStore } from "./_store.js";
import { alignColumns } from "./_table.js";

const usage = `usage: gocrash alert add --event new|regressed|rate --url URL [--service S]
                         [--threshold X] [--min-count N] [--format json|slack] [--name N]
       gocrash alert list
       gocrash alert remove ID
       gocrash alert deliveries [--rule ID] [--state pending|sent|failed|cancelled] [--limit N]
       (each also takes [--db PATH|postgres://…] [--json])

Sets the fleet service's alert rules and shows their alerts. Every 'gocrash serve' on the database
evaluates the rules and posts each alert once to the rule's webhook, retrying with backoff.

  --event E       new: a bucket first seen after the rule was made; regressed: a bucket back in a
                  newer version after one without it; rate: a bucket's fatal crashes per host-hour
                  (from heartbeats) over --threshold in an hour
  --url U         the webhook: gocrash's JSON is posted to it, or Slack's incoming-webhook message
  --format F      json or slack (default: slack for hooks.slack.com, else json)
  --service S     only this service's crashes (default: every service)
  --threshold X   for rate: crashes per host-hour, above 0
  --min-count N   for rate: the fewest crashes in the hour (default 1)
  --name N        a name for the rule (default: the event and service)
  --db D          the service's database (default ./gocrash.db)
  --json          print JSON, as the API answers
`;

const STATES = ["pending", "sent", "failed", "cancelled"] as const;

/** `gocrash alert`: the fleet service's alert rules and deliveries. */
export const alertCommand: Command = {
	name: "alert",
	summary: "set the fleet service's alert rules (webhooks, Slack) and see their deliveries",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			db: { type: "string", default: "gocrash.db" },
			json: { type: "boolean", default: false },
			event: { type: "string" },
			url: { type: "string" },
			service: { type: "string" },
			threshold: { type: "string" },
			"min-count": { type: "string" },
			format: { type: "string" },
			name: { type: "string" },
			rule: { type: "string" },
			state: { type: "string" },
			limit: { type: "string" },
		});
		const [action, ...rest] = positionals;
		const actions = ["add", "list", "remove", "deliveries"];
		if (action === undefined || !actions.includes(action))
			throw new UsageError(`give an action: ${actions.join(", ")}`);
		if (rest.length > (action === "remove" ? 1 : 0))
			throw new UsageError(`unexpected argument '${rest.at(-1)}'`);
		const number = (name: string, value: string | undefined): number | undefined => {
			if (value === undefined) return undefined;
			const n = Number(value);
			if (value.trim() === "" || !Number.isFinite(n))
				throw new UsageError(`--${name}: '${value}' is not a number`);
			return n;
		};
		const threshold = number("threshold", values.threshold);
		const minCount = number("min-count", values["min-count"]);
		const limit = number("limit", values.limit) ?? 50;
		if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
			throw new UsageError("--limit: a whole number from 1 to 1000");
		const state = values.state;
		if (state !== undefined && !(STATES as readonly string[]).includes(state))
			throw new UsageError(`--state: give ${STATES.join(", ")}`);
		const store = await openCliStore(values.db, io.cwd);
		try {
			switch (action) {
				case "add": {
					const read = readAlertRule(
						{
							event: values.event,
							url: values.url,
							service: values.service,
							threshold,
							minCount,
							format: values.format,
							name: values.name,
						},
						Date.now(),
					);
					if ("problem" in read) throw new UsageError(`--${kebab(read.problem)}`);
					await store.alerts.createRule(read.rule);
					const json = alertRuleJson(read.rule);
					print(io, values.json, json, () => formatRules([json]));
					return 0;
				}
				case "list": {
					const rules = (await store.alerts.listRules()).map(alertRuleJson);
					print(io, values.json, { rules }, () =>
						rules.length === 0 ? "no alert rules\n" : formatRules(rules),
					);
					return 0;
				}
				case "remove": {
					const id = rest[0];
					if (id === undefined) throw new UsageError("remove: give the rule's id");
					if (!(await store.alerts.deleteRule(id)))
						throw new InputError(`no alert rule ${id} in ${values.db}`);
					print(io, values.json, { deleted: id }, () => `removed rule ${id}\n`);
					return 0;
				}
				default:
					return await deliveries(store, io, {
						rule: values.rule,
						state: state as AlertState | undefined,
						limit,
						json: values.json,
					});
			}
		} finally {
			await store.close();
		}
	},
};

async function deliveries(
	store: Store,
	io: Io,
	query: {
		rule?: string | undefined;
		state?: AlertState | undefined;
		limit: number;
		json: boolean;
	},
): Promise<number> {
	const alerts = (await store.alerts.listAlerts(query)).map(alertJson);
	print(io, query.json, { alerts }, () => {
		if (alerts.length === 0) return "no alerts\n";
		const rows = alerts.map((a) => [
			String(a.created),
			String(a.state),
			String(a.attempts),
			a.lastError === null
				? a.lastStatus === null
					? ""
					: String(a.lastStatus)
				: String(a.lastError),
			String(a.rule),
			`${String(a.event)}${a.service === null ? "" : ` ${String(a.service)}`}`,
			`${String(a.bucket)} ${String(a.title)}`,
		]);
		return formatTable(
			["CREATED", "STATE", "TRIES", "LAST ANSWER", "RULE", "EVENT", "BUCKET"],
			rows,
		);
	});
	return 0;
}

function formatRules(rules: readonly Record<string, unknown>[]): string {
	return formatTable(
		["ID", "EVENT", "SERVICE", "THRESHOLD", "FORMAT", "URL", "NAME"],
		rules.map((r) => [
			String(r.id),
			String(r.event),
			r.service === null ? "(every)" : String(r.service),
			r.threshold === null ? "" : `>${String(r.threshold)}/host-hour, ≥${String(r.minCount)}`,
			String(r.format),
			String(r.url),
			String(r.name),
		]),
	);
}

/** A table with its header, in aligned columns. */
function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
	return `${alignColumns([header, ...rows]).join("\n")}\n`;
}

function print(io: Io, json: boolean, value: unknown, text: () => string): void {
	io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text());
}

/** A problem of `readAlertRule` with its field named as the option is. */
const kebab = (problem: string): string =>
	problem
		.replace(/^minCount/, "min-count")
		.replace(/^threshold, minCount/, "threshold, --min-count");
