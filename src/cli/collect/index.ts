import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_SERVER } from "../_fleet-api.js";
import type { Command, Io } from "../_io.js";
import { parseCommandArgs, UsageError, wholeNumberOption } from "../_io.js";
import { FileFollower, type SourceReport } from "./_files.js";
import { JournalFollower } from "./_journal.js";
import { type Attributes, hostAttributes } from "./_origin.js";
import { describeFailure, reports, Shipper } from "./_shipper.js";
import { type ReportBody, Spool } from "./_spool.js";
import { loadPositions, POSITIONS, savePositions } from "./_state.js";
import { LogStream } from "./_stream.js";

const usage = `usage: gocrash collect [FILE|GLOB|-]... [--journal [--unit U]... [--journal-dir DIR]]
                       [--server URL] [--token T] [--attr NAME=VALUE]...
                       [--service S] [--host H] [--state DIR] [--pickup DIR]...
                       [--spool-max MIB] [--quiet SECONDS] [--heartbeat SECONDS]
                       [--retry-for SECONDS] [--from-start] [--once]

Follows log files like 'tail -F' (new files matching a glob, rotation, truncation) and standard
input (-), cuts every Go crash, goroutine dump and race report out of them as soon as it is
complete, and sends it to the fleet service ('gocrash serve') with the host's attributes. Reads
Kubernetes (CRI) and Docker json-file logs: the pod, namespace and container come from the path
(/var/log/pods/NS_POD_UID/CONTAINER/N.log, /var/log/containers/*.log,
/var/lib/docker/containers/ID/ID-json.log). Reads the systemd journal with --journal, each
process of each unit as its own stream.

Each report is first written to a spool directory, then sent; it is deleted once the server took
it. While the server cannot be reached it is tried again with backoff, and read positions are
saved, so a restart neither loses nor repeats a crash. Also sends the Go client's spooled crashes.

  --journal           also follow the systemd journal (journalctl --follow -o json); a crash
                      is sent with systemd.unit, and its service is the unit's name
  --unit U            with --journal: only this unit (journalctl -u); repeat for several
  --journal-dir DIR   with --journal: read the journal files in DIR (journalctl --directory),
                      e.g. another machine's /var/log/journal
  --server URL        the service (default: $GOCRASH_SERVER, else ${DEFAULT_SERVER})
  --token T           an ingest token (default: $GOCRASH_TOKEN; 'gocrash token create --scope ingest')
  --attr NAME=VALUE   sent with every crash and heartbeat (region=eu-west); repeat for several.
                      kernel (uname -r) and goarch (the machine's) are always sent
  --service S         the service name sent with every crash (default: the container's name,
                      where the path gives one)
  --host H            the host name (default: this machine's, ${hostname()})
  --state DIR         read positions and the spool (default: $XDG_STATE_HOME/gocrash/collect,
                      else ~/.local/state/gocrash/collect)
  --pickup DIR        also send the crashes the Go client spooled here (default: its default,
                      $XDG_CACHE_HOME/gocrash/spool, else ~/.cache/gocrash/spool); repeat for several
  --spool-max MIB     the spool's bound; when full, the oldest reports are dropped and counted
                      (default 64)
  --quiet SECONDS     a crash still open after this long with no new line is sent as it is,
                      marked truncated=true if it stops mid-way (default 10)
  --heartbeat SECONDS how often the host reports that it is alive, the fleet's denominator
                      (default 60; 0: never)
  --retry-for SECONDS with --once and at SIGTERM: how long to keep trying to send what is
                      spooled before exiting (default 30; what is left is sent by the next run)
  --from-start        read files found at the first start, and the journal, from their start
                      (default: from their end, like tail -F; files found later are always
                      read from their start)
  --once              read what the files and the journal hold now from the start, send it,
                      and exit: 0 when every report was taken, 1 when some stay in the spool
`;

const POLL_MS = 500;

/** `gocrash collect`: follows logs, cuts out Go crashes, and sends them to the fleet service. */
export const collectCommand: Command = {
	name: "collect",
	summary:
		"follow log files (tail -F, CRI, Docker), the journal and stdin; send each Go crash to 'gocrash serve'",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			server: { type: "string" },
			token: { type: "string" },
			attr: { type: "string", multiple: true },
			service: { type: "string" },
			host: { type: "string" },
			state: { type: "string" },
			pickup: { type: "string", multiple: true },
			"spool-max": { type: "string" },
			quiet: { type: "string" },
			heartbeat: { type: "string" },
			"retry-for": { type: "string" },
			"from-start": { type: "boolean" },
			once: { type: "boolean" },
			journal: { type: "boolean" },
			unit: { type: "string", multiple: true },
			"journal-dir": { type: "string" },
		});
		const journal = values.journal === true;
		if (positionals.length === 0 && !journal)
			throw new UsageError("name at least one file, glob or - (standard input), or --journal");
		if (!journal && (values.unit !== undefined || values["journal-dir"] !== undefined))
			throw new UsageError(
				`--${values.unit !== undefined ? "unit" : "journal-dir"} needs --journal`,
			);
		const server = readServer(values.server ?? io.env.GOCRASH_SERVER ?? DEFAULT_SERVER);
		const token = values.token ?? io.env.GOCRASH_TOKEN;
		if (token === undefined || token === "")
			throw new UsageError(
				"no token: pass --token or set GOCRASH_TOKEN (an ingest token: 'gocrash token create --scope ingest')",
			);
		const attributes: Attributes = [...hostAttributes(), ...(values.attr ?? []).map(readAttr)];
		const host = values.host ?? hostname();
		const home = io.env.HOME ?? io.cwd;
		const stateDir = resolve(
			io.cwd,
			values.state ?? join(io.env.XDG_STATE_HOME ?? join(home, ".local/state"), "gocrash/collect"),
		);
		const pickups = (
			values.pickup ?? [join(io.env.XDG_CACHE_HOME ?? join(home, ".cache"), "gocrash/spool")]
		).map((d) => resolve(io.cwd, d));
		const spool = new Spool(
			join(stateDir, "spool"),
			wholeNumberOption("spool-max", values["spool-max"], 64) * 1024 * 1024,
		);
		const quietMs = wholeNumberOption("quiet", values.quiet, 10) * 1000;
		const heartbeatMs = wholeNumberOption("heartbeat", values.heartbeat, 60) * 1000;
		const retryMs = wholeNumberOption("retry-for", values["retry-for"], 30) * 1000;
		const once = values.once === true;
		const log = (line: string) => io.stderr.write(`gocrash collect: ${line}\n`);

		const saved = await loadPositions(stateDir);
		const fromStart = once || values["from-start"] === true || saved !== null;
		const follower = new FileFollower(
			{
				patterns: positionals.filter((p) => p !== "-").map((p) => resolve(io.cwd, p)),
				host,
				service: values.service ?? null,
				attributes,
				fromStart,
				now: Date.now,
				log,
			},
			saved?.files ?? new Map(),
		);
		const journalFollower = journal
			? new JournalFollower(
					{
						units: values.unit ?? [],
						directory:
							values["journal-dir"] === undefined ? null : resolve(io.cwd, values["journal-dir"]),
						host: values.host ?? null,
						fallbackHost: host,
						service: values.service ?? null,
						attributes,
						fromStart,
						once,
						now: Date.now,
						log,
					},
					saved?.journal ?? null,
				)
			: null;
		const shipper = new Shipper({ server, token, spool, pickups, log });
		const put = async (cut: readonly SourceReport[]) => {
			for (const { from, body: report } of cut) {
				const dropped = await spool.put(report);
				log(
					`cut a ${report.attributes.truncated === "true" ? "truncated " : ""}report of ${report.text.split("\n").length} lines from ${from}: ${report.idempotencyKey}`,
				);
				if (dropped > 0)
					log(
						`the spool ${spool.dir} is full (${values["spool-max"] ?? 64} MiB): dropped the oldest ${reports(dropped)}`,
					);
			}
			if (cut.length > 0) shipper.kick();
		};

		log(
			`reading ${[...positionals, ...(journal ? ["the journal"] : [])].join(" ")}; sending to ${server} (spool ${spool.dir}${pickups.length > 0 ? `, also sending ${pickups.join(", ")}` : ""})`,
		);
		const stop = new AbortController();
		const onSignal = (name: string) => () => {
			log(`${name}: saving positions and sending what is spooled`);
			stop.abort();
		};
		const onTerm = onSignal("SIGTERM");
		const onInt = onSignal("SIGINT");
		process.once("SIGTERM", onTerm);
		process.once("SIGINT", onInt);
		const stdin = positionals.includes("-")
			? readStdin(io, host, values.service ?? "", attributes, put)
			: null;
		const shipping = once ? null : shipper.run(stop.signal);
		const beating =
			once || heartbeatMs === 0
				? null
				: heartbeats(
						server,
						token,
						host,
						values.service ?? "",
						attributes,
						heartbeatMs,
						stop.signal,
						log,
					);
		let last = "";
		const save = async () => {
			const positions = { files: follower.state, journal: journalFollower?.state ?? null };
			const text = JSON.stringify([[...positions.files], positions.journal]);
			if (text === last) return;
			await savePositions(stateDir, positions);
			last = text;
		};
		journalFollower?.start();
		try {
			do {
				await put(await follower.look(quietMs));
				if (journalFollower !== null) await put(journalFollower.look(quietMs));
				if (stdin?.stream.open && Date.now() - stdin.stream.lastData >= quietMs)
					await put(fromStdin(stdin.stream.flush()));
				await save();
				if (!once) await sleep(POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
			} while (!stop.signal.aborted && !once);
			if (once) {
				await stdin?.done;
				if (journalFollower !== null) {
					await journalFollower.ended;
					await put(journalFollower.look(quietMs));
					await put(journalFollower.flush());
				}
				await put(follower.flush());
				await save();
				const left = await shipper.drain(Date.now() + retryMs);
				if (left > 0) {
					log(`${reports(left)} still in the spool ${spool.dir}: the next run sends them`);
					return 1;
				}
				log(`done: ${reports(shipper.sent)} sent (positions in ${join(stateDir, POSITIONS)})`);
				return 0;
			}
			await shipping;
			await beating;
			await shipper.drain(Date.now() + retryMs);
			return 0;
		} finally {
			process.off("SIGTERM", onTerm);
			process.off("SIGINT", onInt);
			stop.abort();
			await follower.close();
			journalFollower?.close();
		}
	},
};

function readServer(value: string): string {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw new UsageError(`--server: '${value}' is not a URL (e.g. ${DEFAULT_SERVER})`);
	}
	if (url.protocol !== "http:" && url.protocol !== "https:")
		throw new UsageError(`--server: '${value}' is not an http:// or https:// URL`);
	return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function readAttr(value: string): readonly [string, string] {
	const eq = value.indexOf("=");
	if (eq <= 0) throw new UsageError(`--attr: '${value}' is not NAME=VALUE`);
	return [value.slice(0, eq), value.slice(eq + 1)];
}

/** Standard input as one stream: the reports it completes go to `put`; `done` when it ends. */
function readStdin(
	io: Io,
	host: string,
	service: string,
	attributes: Attributes,
	put: (reports: readonly SourceReport[]) => Promise<void>,
): { stream: LogStream; done: Promise<void> } {
	const stream = new LogStream("stdin", { host, service, attributes }, null, Date.now);
	io.stdin.setEncoding("utf8");
	const done = (async () => {
		for await (const chunk of io.stdin) await put(fromStdin(stream.write(chunk as string)));
		await put(fromStdin(stream.flush()));
	})();
	return { stream, done };
}

function fromStdin(bodies: readonly ReportBody[]): SourceReport[] {
	return bodies.map((body) => ({ from: "standard input", body }));
}

/** Posts a heartbeat at once and then every `everyMs`, until `signal` aborts; logs when one fails. */
async function heartbeats(
	server: string,
	token: string,
	host: string,
	service: string,
	attributes: Attributes,
	everyMs: number,
	signal: AbortSignal,
	log: (line: string) => void,
): Promise<void> {
	let failing = false;
	while (!signal.aborted) {
		try {
			const response = await fetch(`${server}/api/v1/heartbeats`, {
				method: "POST",
				headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
				body: JSON.stringify({
					host,
					service,
					time: new Date().toISOString(),
					attributes: Object.fromEntries(attributes),
				}),
				signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
			});
			if (!response.ok)
				throw new Error(`${response.status} ${(await response.text()).slice(0, 200)}`);
			if (failing) log("heartbeats are taken again");
			failing = false;
		} catch (error) {
			if (signal.aborted) break;
			if (!failing)
				log(`a heartbeat failed (${describeFailure(error)}); trying again in ${everyMs / 1000} s`);
			failing = true;
		}
		await sleep(everyMs, undefined, { signal }).catch(() => undefined);
	}
}
