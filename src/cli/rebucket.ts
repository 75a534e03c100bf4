import { availableParallelism } from "node:os";
import { gunzipSync } from "node:zlib";
import { PreparePool } from "../server/index.js";
import type { CrashRecord, NewCrash, ResignedCrash, Store } from "../store/index.js";
import type { Command } from "./_io.js";
import { parseCommandArgs, UsageError, wholeNumberOption } from "./_io.js";
import { openCliStore } from "./_store.js";
import { alignColumns } from "./_table.js";
import { builtinRulesDir, loadRules } from "./diagnose.js";

const usage = `usage: gocrash rebucket [--db PATH|postgres://…] [--dry-run] [--threads N] [--json]

Signs every crash the fleet service stored again from its text, with this gocrash's parser,
signatures and diagnosis rules, and moves the ones whose bucket, diagnosis or attributes changed:
their counts move with them in every rollup (rates, correlations, versions), and a bucket left with
no crashes is deleted. Run it after upgrading gocrash; servers may keep ingesting meanwhile.
Crashes that retention deleted stay counted in the bucket they were in.

  --db D        the service's database (default ./gocrash.db)
  --dry-run     report what would move, change nothing
  --threads N   worker threads that parse and diagnose (default: one less than the processors)
  --json        print the summary as JSON
`;

/** Crashes read and moved per transaction. */
const PAGE = 500;
/** Crashes that could not be signed again named in the summary. */
const SAMPLES = 20;

/** What `rebucket` did, as --json prints it. */
interface Summary {
	read: number;
	moved: number;
	changed: number;
	unchanged: number;
	/** How many could not be signed again, and why for the first of them. */
	unsigned: number;
	unsignedSamples: { id: string; reason: string }[];
	moves: { from: string; to: string; count: number; title: string }[];
	dryRun: boolean;
}

/** `gocrash rebucket`: re-signs the fleet service's stored crashes. */
export const rebucketCommand: Command = {
	name: "rebucket",
	summary: "sign the fleet service's stored crashes again after an upgrade, moving their counts",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			db: { type: "string", default: "gocrash.db" },
			"dry-run": { type: "boolean", default: false },
			threads: { type: "string" },
			json: { type: "boolean", default: false },
		});
		if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
		const threads = wholeNumberOption(
			"threads",
			values.threads,
			Math.max(1, availableParallelism() - 1),
		);
		const { rules } = await loadRules([builtinRulesDir]);
		const store = await openCliStore(values.db, io.cwd);
		const pool = new PreparePool({ rules, maxCrashes: 1000, now: Date.now, threads });
		try {
			const summary = await rebucket(store, pool, values["dry-run"]);
			io.stdout.write(
				values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary),
			);
			return 0;
		} finally {
			await pool.close();
			await store.close();
		}
	},
};

async function rebucket(store: Store, pool: PreparePool, dryRun: boolean): Promise<Summary> {
	const summary: Summary = {
		read: 0,
		moved: 0,
		changed: 0,
		unchanged: 0,
		unsigned: 0,
		unsignedSamples: [],
		moves: [],
		dryRun,
	};
	const moves = new Map<string, Summary["moves"][number]>();
	for (let after: string | null = null; ; ) {
		const page: CrashRecord[] = await store.scanCrashes(after, PAGE);
		if (page.length === 0) break;
		after = (page.at(-1) as CrashRecord).id;
		summary.read += page.length;
		const signed = await Promise.all(page.map((c) => resign(c, pool)));
		const changes: ResignedCrash[] = [];
		for (const [i, now] of signed.entries()) {
			const was = page[i] as CrashRecord;
			if ("reason" in now) {
				summary.unsigned++;
				if (summary.unsignedSamples.length < SAMPLES)
					summary.unsignedSamples.push({ id: was.id, reason: now.reason });
				continue;
			}
			if (now.signature.id !== was.bucket) {
				summary.moved++;
				const key = `${was.bucket}\0${now.signature.id}`;
				const move = moves.get(key) ?? {
					from: was.bucket,
					to: now.signature.id,
					count: 0,
					title: now.signature.title,
				};
				move.count++;
				moves.set(key, move);
			} else if (sameSigning(was, now)) {
				summary.unchanged++;
				continue;
			} else summary.changed++;
			changes.push(now);
		}
		if (!dryRun) await store.resignCrashes(changes);
	}
	summary.moves = [...moves.values()].sort(
		(a, b) => b.count - a.count || (a.from < b.from ? -1 : 1),
	);
	return summary;
}

/** The crash signed again from its text, or why it cannot be. */
async function resign(
	c: CrashRecord,
	pool: PreparePool,
): Promise<ResignedCrash | { reason: string }> {
	if (c.raw === null) return { reason: "its text is no longer stored" };
	let text: string;
	try {
		text = gunzipSync(c.raw).toString("utf8");
	} catch (error) {
		return { reason: `its stored text does not decompress: ${(error as Error).message}` };
	}
	let crashes: NewCrash[];
	try {
		crashes = await pool.prepare({
			text,
			kind: c.kind,
			time: c.time,
			host: c.host,
			service: c.service,
			version: c.version,
			attributes: c.attributes,
			idempotencyKey: null,
		});
	} catch (error) {
		return { reason: (error as Error).message };
	}
	const [one] = crashes;
	if (one === undefined || crashes.length > 1)
		return { reason: `its text now reads as ${crashes.length} crashes` };
	return {
		id: c.id,
		attributes: one.attributes,
		signature: one.signature,
		message: one.message,
		diagnosis: one.diagnosis,
		diagnosisRank: one.diagnosisRank,
		findings: one.findings,
		search: one.search,
	};
}

/** Whether the crash's diagnosis and attributes are as it is stored. */
function sameSigning(was: CrashRecord, now: ResignedCrash): boolean {
	const pairs = (list: readonly (readonly [string, string])[]) =>
		JSON.stringify([...new Set(list.map(([n, v]) => `${n}\0${v}`))].sort());
	return (
		was.findings === now.findings &&
		was.message === now.message &&
		was.diagnosis?.id === now.diagnosis?.id &&
		was.diagnosis?.confidence === now.diagnosis?.confidence &&
		pairs(was.attributes) === pairs(now.attributes)
	);
}

function formatSummary(s: Summary): string {
	const verb = s.dryRun ? "would move" : "moved";
	const lines = [
		`gocrash rebucket: ${s.read} crashes read: ${s.moved} ${verb} to another bucket, ` +
			`${s.changed} ${s.dryRun ? "would get" : "got"} a new diagnosis or attributes, ` +
			`${s.unchanged} unchanged, ${s.unsigned} could not be signed again`,
	];
	if (s.moves.length > 0)
		lines.push(
			"",
			...alignColumns([
				["CRASHES", "FROM", "TO", "NEW TITLE"],
				...s.moves.map((m) => [String(m.count), m.from, m.to, m.title]),
			]),
		);
	for (const u of s.unsignedSamples) lines.push(`  not signed again: ${u.id}: ${u.reason}`);
	if (s.unsigned > s.unsignedSamples.length)
		lines.push(`  … and ${s.unsigned - s.unsignedSamples.length} more`);
	return `${lines.join("\n")}\n`;
}
