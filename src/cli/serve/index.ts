import { mkdtempSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
	createServer,
	DEFAULT_LIMITS,
	DEFAULT_LOG_STREAM_OPTIONS,
	newToken,
} from "../../server/index.js";
import type { Command } from "../_io.js";
import { InputError, parseCommandArgs, UsageError, wholeNumberOption } from "../_io.js";
import { openCliStore } from "../_store.js";
import { builtinRulesDir, loadRules } from "../diagnose.js";
import { loadDemoFleet } from "./_demo.js";

const usage = `usage: gocrash serve [--db PATH|postgres://…] [--listen HOST:PORT] [--demo]
                     [--max-body BYTES] [--max-crashes N] [--rate-limit N] [--retention-days D]
                     [--threads N] [--log-quiet S]

Runs the fleet service: takes crash reports and heartbeats from many hosts over HTTP
(POST /api/v1/crashes, /api/v1/heartbeats) and OpenTelemetry logs (POST /v1/logs, OTLP/HTTP),
groups crashes into buckets, and answers with buckets, rates and correlations (GET /api/v1/…).
Every request needs a token ('gocrash token create'). Logs one JSON line per request; SIGTERM
stops it cleanly.

  --db D              SQLite file (default ./gocrash.db) or a postgres:// URL; several servers
                      can share one PostgreSQL database
  --listen A          address to listen on (default 127.0.0.1:7480)
  --demo              start on a fresh database filled with a simulated fleet made from the
                      repository's real crash texts, and print a read and an ingest token
  --max-body B        largest request body in bytes, after gzip (default ${DEFAULT_LIMITS.maxBody})
  --max-crashes N     most crashes one request's text may hold (default ${DEFAULT_LIMITS.maxCrashesPerRequest})
  --rate-limit N      requests per second per token, 0 for none (default 0)
  --retention-days D  delete the crashes received more than D days ago (texts, details) and
                      the per-host heartbeat hours; buckets, counts, rates and correlations
                      keep counting them (default: keep everything)
  --threads N         worker threads that parse and diagnose reports (default: one less than
                      the processors, at least 1; 0: the thread that answers requests does)
  --log-quiet S       seconds without a record after which an OTLP log stream's open crash is
                      stored as it is, marked truncated if it stops mid-way (default ${DEFAULT_LOG_STREAM_OPTIONS.quiet / 1000})
`;

const HOUR = 3_600_000;

/** `gocrash serve`: the fleet service. */
export const serveCommand: Command = {
	name: "serve",
	summary: "run the fleet service: ingest crashes from many hosts, buckets, rates, correlations",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			db: { type: "string" },
			listen: { type: "string", default: "127.0.0.1:7480" },
			demo: { type: "boolean", default: false },
			"max-body": { type: "string" },
			"max-crashes": { type: "string" },
			"rate-limit": { type: "string" },
			"retention-days": { type: "string" },
			threads: { type: "string" },
			"log-quiet": { type: "string" },
		});
		if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
		const listen = /^(.*):(\d{1,5})$/.exec(values.listen);
		if (listen === null) throw new UsageError(`--listen: '${values.listen}' is not HOST:PORT`);
		const limits = {
			maxBody: wholeNumberOption("max-body", values["max-body"], DEFAULT_LIMITS.maxBody),
			maxCrashesPerRequest: wholeNumberOption(
				"max-crashes",
				values["max-crashes"],
				DEFAULT_LIMITS.maxCrashesPerRequest,
			),
			requestsPerSecond: wholeNumberOption("rate-limit", values["rate-limit"], 0),
		};
		const quiet = wholeNumberOption(
			"log-quiet",
			values["log-quiet"],
			DEFAULT_LOG_STREAM_OPTIONS.quiet / 1000,
		);
		// With no quiet period every stream would end after each request, and no crash could span two.
		if (quiet === 0) throw new UsageError("--log-quiet: must be at least 1 second");
		const retentionDays =
			values["retention-days"] === undefined
				? undefined
				: wholeNumberOption("retention-days", values["retention-days"], 0);
		const db =
			values.db ??
			(values.demo
				? join(mkdtempSync(join(tmpdir(), "gocrash-demo-")), "gocrash.db")
				: "gocrash.db");
		const { rules } = await loadRules([builtinRulesDir]);
		const store = await openCliStore(db, io.cwd);
		try {
			if (values.demo) {
				if ((await store.listCrashes({ limit: 1 })).length > 0)
					throw new InputError(`--demo needs a fresh database, and ${db} already holds crashes`);
				const started = Date.now();
				const loaded = await loadDemoFleet(store, rules, Date.now());
				const tokens = {
					read: newToken("read", "demo-read", Date.now()),
					ingest: newToken("ingest", "demo-ingest", Date.now()),
				};
				await store.createToken(tokens.read.record);
				await store.createToken(tokens.ingest.record);
				io.stderr.write(
					`gocrash serve: demo fleet in ${db}: ${loaded.crashes} crashes and ${loaded.heartbeats} heartbeats from ${loaded.hosts} hosts over ${loaded.days} days, loaded in ${((Date.now() - started) / 1000).toFixed(1)} s\n` +
						`read token:   ${tokens.read.secret}\ningest token: ${tokens.ingest.secret}\n`,
				);
			}
			const prepareThreads = wholeNumberOption(
				"threads",
				values.threads,
				Math.max(1, availableParallelism() - 1),
			);
			const app = createServer({
				store,
				rules,
				limits,
				prepareThreads,
				log: { stream: io.stdout },
				logStreams: {
					quiet: quiet * 1000,
					sweepEvery: Math.min(DEFAULT_LOG_STREAM_OPTIONS.sweepEvery, Math.max(250, quiet * 200)),
				},
				web: fileURLToPath(new URL("../../web/", import.meta.url)),
			});
			const address = await app.listen({ host: listen[1] as string, port: Number(listen[2]) });
			io.stderr.write(`gocrash serve: listening on ${address} (${store.dialect})\n`);
			const expire = async (days: number) => {
				try {
					const expired = await store.expire(Date.now() - days * 24 * HOUR);
					app.log.info({ ...expired, retentionDays: days }, "retention");
				} catch (error) {
					app.log.error({ err: error }, "retention failed");
				}
			};
			const retention =
				retentionDays === undefined
					? undefined
					: setInterval(() => void expire(retentionDays), HOUR);
			retention?.unref();
			if (retentionDays !== undefined) await expire(retentionDays);
			const signal = await new Promise<string>((done) => {
				process.once("SIGTERM", () => done("SIGTERM"));
				process.once("SIGINT", () => done("SIGINT"));
			});
			clearInterval(retention);
			io.stderr.write(`gocrash serve: ${signal}: finishing the requests in progress\n`);
			// Stops accepting connections and waits for every request in progress to be answered.
			await app.close();
			return 0;
		} finally {
			await store.close();
		}
	},
};
