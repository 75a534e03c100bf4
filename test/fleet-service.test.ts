import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken, type Server, serve } from "./_serve.js";
import { startPostgres } from "./postgres.js";

// End to end: the built command line, real processes, a real SQLite file and a real PostgreSQL.
const CRASHES = join(import.meta.dirname, "fixtures/crashes/go1.24.4-arm64");
const TEXTS = readdirSync(CRASHES)
	.filter((n) => n.endsWith(".txt") && !n.startsWith("race"))
	.map((n) => readFileSync(join(CRASHES, n), "utf8"))
	.filter((t) => t.length < 30_000);

const scratch = mkdtempSync(join(tmpdir(), "gocrash-fleet-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const token = (db: string, scope: "ingest" | "read") => createToken(db, scope, `e2e-${scope}`);

async function postCrash(
	server: Server,
	secret: string,
	text: string,
	host: string,
): Promise<string[] | null> {
	try {
		const res = await fetch(`${server.url}/api/v1/crashes`, {
			method: "POST",
			headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
			body: JSON.stringify({ text, host, service: "e2e" }),
		});
		if (res.status !== 201) return null;
		const body = (await res.json()) as { crashes: { id: string }[] };
		return body.crashes.map((c) => c.id);
	} catch {
		return null;
	}
}

/** Clients post crashes until the server dies; returns every id the server acknowledged. */
async function loadUntilKilled(
	server: Server,
	secret: string,
	killAfter: number,
): Promise<string[]> {
	const acknowledged: string[] = [];
	let stop = false;
	const client = async (n: number) => {
		for (let i = 0; !stop; i++) {
			const ids = await postCrash(
				server,
				secret,
				TEXTS[(n + i) % TEXTS.length] as string,
				`host-${n}`,
			);
			if (ids === null) continue;
			acknowledged.push(...ids);
			if (acknowledged.length >= killAfter && !stop) {
				server.process.kill("SIGKILL");
				stop = true;
			}
		}
	};
	await Promise.race([
		Promise.all(Array.from({ length: 8 }, (_, n) => client(n))),
		server.exited.then(() => (stop = true)),
	]);
	stop = true;
	return acknowledged;
}

async function stored(server: Server, secret: string, ids: readonly string[]): Promise<number> {
	let found = 0;
	for (const id of ids) {
		const res = await fetch(`${server.url}/api/v1/crashes/${id}`, {
			headers: { authorization: `Bearer ${secret}` },
		});
		if (res.status === 200) found++;
	}
	return found;
}

function backends(): [string, () => Promise<{ db: string; stop: () => Promise<void> }>][] {
	return [
		[
			"sqlite",
			async () => ({
				db: join(mkdtempSync(join(scratch, "sqlite-")), "gocrash.db"),
				stop: async () => {},
			}),
		],
		[
			"postgres",
			async () => {
				const pg = await startPostgres();
				return { db: pg.url, stop: pg.stop };
			},
		],
	];
}

describe.each(backends())("gocrash serve on %s", (_name, open) => {
	let db: string;
	let stop: () => Promise<void>;
	let ingest: string;
	let read: string;
	beforeAll(async () => {
		({ db, stop } = await open());
		ingest = token(db, "ingest");
		read = token(db, "read");
	});
	afterAll(async () => stop());

	it("loses nothing it acknowledged when killed with SIGKILL under load", async () => {
		const server = await serve(db);
		const acknowledged = await loadUntilKilled(server, ingest, 150);
		expect(await server.exited).toBeNull();
		expect(acknowledged.length).toBeGreaterThanOrEqual(150);
		const again = await serve(db);
		expect(await stored(again, read, acknowledged)).toBe(acknowledged.length);
		again.process.kill("SIGTERM");
		expect(await again.exited).toBe(0);
	});

	it("answers what it accepted before SIGTERM, logs a JSON line per request, and exits 0", async () => {
		const server = await serve(db);
		const pending = Array.from({ length: 20 }, (_, i) =>
			postCrash(server, ingest, TEXTS[i % TEXTS.length] as string, "term"),
		);
		await new Promise((r) => setTimeout(r, 30));
		server.process.kill("SIGTERM");
		const answers = await Promise.all(pending);
		expect(await server.exited).toBe(0);
		const accepted = answers.filter((a) => a !== null).flat();
		const again = await serve(db);
		expect(await stored(again, read, accepted)).toBe(accepted.length);
		again.process.kill("SIGTERM");
		await again.exited;
		const lines = server.log.map(
			(l) => JSON.parse(l) as { msg: string; status?: number; url?: string },
		);
		const requests = lines.filter((l) => l.msg === "request");
		expect(requests.filter((l) => l.status === 201).length).toBe(
			answers.filter((a) => a !== null).length,
		);
		expect(requests.every((l) => l.url === "/api/v1/crashes")).toBe(true);
	});
});

describe("several servers on one PostgreSQL database", () => {
	it("share everything: what one stores, the other reads", async () => {
		const pg = await startPostgres();
		try {
			const ingest = token(pg.url, "ingest");
			const read = token(pg.url, "read");
			const [a, b] = await Promise.all([serve(pg.url), serve(pg.url)]);
			const ids = (
				await Promise.all(
					TEXTS.slice(0, 10).map((t, i) => postCrash(i % 2 === 0 ? a : b, ingest, t, `h${i}`)),
				)
			)
				.flat()
				.filter((id): id is string => id !== null);
			expect(ids.length).toBe(10);
			expect(await stored(b, read, ids)).toBe(10);
			const fromA = (await (
				await fetch(`${a.url}/api/v1/buckets?service=e2e`, {
					headers: { authorization: `Bearer ${read}` },
				})
			).json()) as {
				buckets: { count: number }[];
			};
			expect(fromA.buckets.reduce((n, x) => n + x.count, 0)).toBe(10);
			for (const s of [a, b]) s.process.kill("SIGTERM");
			expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
		} finally {
			await pg.stop();
		}
	});
});
