import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Rule } from "../../knowledge/index.js";
import { prepareReport } from "../../server/index.js";
import { type SourceText, simulateFleet } from "../../simulate/index.js";
import type { NewCrash, Store } from "../../store/index.js";

/** The repository's real crash texts, next to the package's code. */
const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/", import.meta.url));
const BATCH = 500;
const HEARTBEAT_BATCH = 20_000;

interface Meta {
	readonly scenario?: string;
	readonly goarch?: string;
	readonly goVersion?: string;
}

/** Reads every fixture text with its meta file: the crash texts the demo fleet is made from. */
export async function readDemoSources(): Promise<SourceText[]> {
	const sources: SourceText[] = [];
	const add = async (dir: string, splitSP: boolean): Promise<void> => {
		for (const name of (await readdir(dir)).filter((n) => n.endsWith(".txt")).sort()) {
			const meta = JSON.parse(
				await readFile(join(dir, name.replace(/\.txt$/, ".meta.json")), "utf8"),
			) as Meta;
			sources.push({
				name: join(dir, name).slice(FIXTURES.length),
				text: await readFile(join(dir, name), "utf8"),
				goarch: meta.goarch ?? "",
				goVersion: meta.goVersion ?? "",
				scenario: meta.scenario ?? "",
				splitSP,
			});
		}
	};
	const crashes = join(FIXTURES, "crashes");
	for (const dir of (await readdir(crashes, { withFileTypes: true })).filter((d) =>
		d.isDirectory(),
	))
		await add(join(crashes, dir.name), false);
	await add(join(FIXTURES, "diagnose", "split-sp"), true);
	return sources;
}

/** Fills a fresh store with a simulated fleet, through the same parsing, signing and diagnosis as ingest. */
export async function loadDemoFleet(
	store: Store,
	rules: readonly Rule[],
	end: number,
): Promise<{ crashes: number; heartbeats: number; hosts: number; days: number }> {
	const days = 21;
	const fleet = simulateFleet({ sources: await readDemoSources(), end, days });
	let batch: NewCrash[] = [];
	let crashes = 0;
	for (const c of fleet.crashes) {
		batch.push(
			...prepareReport(
				{
					text: c.text,
					kind: c.kind,
					time: Date.parse(c.time),
					host: c.host,
					service: c.service,
					version: c.version,
					attributes: Object.entries(c.attributes),
					idempotencyKey: null,
				},
				{ rules, maxCrashes: 100, now: () => Date.parse(c.time) },
			),
		);
		if (batch.length >= BATCH) {
			crashes += (await store.insertCrashes(batch)).length;
			batch = [];
			// SQLite answers synchronously: let timers and I/O run between batches.
			await yieldToLoop();
		}
	}
	crashes += (await store.insertCrashes(batch)).length;
	for (let i = 0; i < fleet.heartbeats.length; i += HEARTBEAT_BATCH) {
		await yieldToLoop();
		await store.insertHeartbeats(
			fleet.heartbeats.slice(i, i + HEARTBEAT_BATCH).map((h) => ({
				host: h.host,
				time: Date.parse(h.time),
				service: h.service,
				version: h.version,
				attributes: Object.entries(h.attributes),
			})),
		);
	}
	const hosts = new Set(fleet.heartbeats.map((h) => h.host)).size;
	return { crashes, heartbeats: fleet.heartbeats.length, hosts, days };
}
