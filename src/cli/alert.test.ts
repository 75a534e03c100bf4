import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { gocrash } from "../../test/binaries/_cli.js";
import { openSqliteStore } from "../store/sqlite/index.js";

const dir = mkdtempSync(join(tmpdir(), "gocrash-alert-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, "gocrash.db");

test("alert add, list and remove keep the service's rules, URLs shown by origin only", async () => {
	const added = await gocrash(
		"alert",
		"add",
		"--db",
		db,
		"--event",
		"rate",
		"--service",
		"edge-proxy",
		"--threshold",
		"0.02",
		"--min-count",
		"3",
		"--url",
		"https://hooks.slack.com/services/T0/B0/SECRET",
		"--json",
	);
	expect(added.stderr).toBe("");
	expect(added.code).toBe(0);
	const rule = JSON.parse(added.stdout);
	expect(rule).toMatchObject({
		event: "rate",
		service: "edge-proxy",
		threshold: 0.02,
		minCount: 3,
		format: "slack",
		url: "https://hooks.slack.com/…",
		name: "rate in edge-proxy",
	});
	const store = await openSqliteStore(db);
	try {
		const [stored] = await store.alerts.listRules();
		expect(stored?.url).toBe("https://hooks.slack.com/services/T0/B0/SECRET");
	} finally {
		await store.close();
	}
	await gocrash("alert", "add", "--db", db, "--event", "new", "--url", "http://127.0.0.1:8080/x");
	const list = await gocrash("alert", "list", "--db", db);
	expect(list.code).toBe(0);
	const lines = list.stdout.trimEnd().split("\n");
	expect(lines[0]).toMatch(/^ID\s+EVENT\s+SERVICE\s+THRESHOLD\s+FORMAT\s+URL\s+NAME$/);
	expect(lines[1]).toContain(`${rule.id}  rate   edge-proxy  >0.02/host-hour, ≥3  slack`);
	expect(lines[2]?.split(/ {2,}/)).toEqual([
		expect.stringMatching(/^[0-9a-f]{12}$/),
		"new",
		"(every)",
		"json",
		"http://127.0.0.1:8080/…",
		"new in every service",
	]);
	expect(list.stdout).not.toContain("SECRET");

	expect((await gocrash("alert", "remove", rule.id, "--db", db)).stdout).toBe(
		`removed rule ${rule.id}\n`,
	);
	const again = await gocrash("alert", "remove", rule.id, "--db", db);
	expect([again.code, again.stderr]).toEqual([
		1,
		`gocrash alert: no alert rule ${rule.id} in ${db}\n`,
	]);
	const json = JSON.parse((await gocrash("alert", "list", "--db", db, "--json")).stdout);
	expect(json.rules.map((r: { event: string }) => r.event)).toEqual(["new"]);
});

test("alert add refuses a rule it cannot keep, naming the option", async () => {
	const cases: [string[], string][] = [
		[["--url", "http://x"], "--event: give new, regressed, rate"],
		[["--event", "new"], "--url: give the webhook's http:// or https:// URL"],
		[["--event", "rate", "--url", "http://x"], "--threshold: a rate rule needs"],
		[
			["--event", "rate", "--url", "http://x", "--threshold", "lots"],
			"--threshold: 'lots' is not a number",
		],
		[
			["--event", "rate", "--url", "http://x", "--threshold", "1", "--min-count", "0"],
			"--min-count: a whole number",
		],
		[
			["--event", "new", "--url", "http://x", "--threshold", "1"],
			"--threshold, --min-count: only a rate",
		],
	];
	for (const [args, message] of cases) {
		const r = await gocrash("alert", "add", "--db", db, ...args);
		expect(r.code, args.join(" ")).toBe(2);
		expect(r.stderr.split("\n")[0]).toContain(`gocrash alert: ${message}`);
	}
	expect((await gocrash("alert", "--db", db)).stderr).toMatch(
		/^gocrash alert: give an action: add, list, remove, deliveries\n/,
	);
});

test("alert deliveries shows each alert's state, attempts and last answer", async () => {
	const store = await openSqliteStore(db);
	try {
		const [rule] = await store.alerts.listRules();
		const t = Date.UTC(2026, 11, 3, 9);
		await store.alerts.addAlerts([
			{
				id: "a1",
				rule: rule?.id as string,
				key: "k1",
				event: "new",
				service: null,
				bucket: "85857d290f25c5f6",
				created: t,
				details: JSON.stringify({
					rule: { id: rule?.id, name: rule?.name },
					bucket: { id: "85857d290f25c5f6", title: "unwinder failure", diagnosis: null },
					facts: {},
				}),
			},
		]);
		const [claimed] = await store.alerts.claimAlerts("cli-test", t, t + 1000, 1);
		await store.alerts.recordDelivery(claimed?.id as string, "cli-test", {
			ok: false,
			status: 502,
			error: "the webhook answered 502",
			at: t,
			retryAt: t + 5000,
		});
	} finally {
		await store.close();
	}
	const r = await gocrash("alert", "deliveries", "--db", db);
	expect(r.code).toBe(0);
	const [header, row] = r.stdout.trimEnd().split("\n");
	expect(header).toMatch(/^CREATED\s+STATE\s+TRIES\s+LAST ANSWER\s+RULE\s+EVENT\s+BUCKET$/);
	expect(row?.split(/ {2,}/)).toEqual([
		"2026-12-03T09:00:00.000Z",
		"pending",
		"1",
		"the webhook answered 502",
		expect.stringMatching(/^[0-9a-f]{12}$/),
		"new",
		"85857d290f25c5f6 unwinder failure",
	]);
	const json = JSON.parse(
		(await gocrash("alert", "deliveries", "--db", db, "--json", "--state", "sent")).stdout,
	);
	expect(json).toEqual({ alerts: [] });
	expect((await gocrash("alert", "deliveries", "--db", db, "--state", "lost")).stderr).toMatch(
		/^gocrash alert: --state: give pending, sent, failed, cancelled\n/,
	);
});
