import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGoClient, toolchain } from "./_goclient.js";
import { type Server, serve, createToken as token } from "./_serve.js";

// End to end: test/goclient (a program that imports client/go through a replace directive), built
// with each of Debian's Go toolchains, crashes in several ways while the REAL built `gocrash serve`
// runs; each crash must arrive through the client's monitor process in the bucket the server gives
// the same text posted directly, with the client's attributes, while the program's exit status and
// crash output stay as they are without the client. linux/arm64 runs under qemu-aarch64.
interface Target {
	readonly name: string;
	readonly version: string;
	readonly goarch: "amd64" | "arm64";
	readonly go: string | null;
	readonly why: string;
}

const TARGETS: Target[] = [
	...["1.23", "1.24", "1.25", "1.26"].map((version) => ({
		name: `go${version} linux/amd64`,
		version,
		goarch: "amd64" as const,
		...toolchain(version),
	})),
	{ name: "go1.26 linux/arm64 (qemu)", version: "1.26", goarch: "arm64", ...toolchain("1.26") },
];
// The monitor re-executes the program, which under qemu-user works only when the kernel runs
// arm64 executables through qemu-aarch64 itself (binfmt_misc).
const hasQemu =
	spawnSync("qemu-aarch64", ["--version"]).status === 0 &&
	existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64");

/** Each way the program crashes, and the reason the server's signature must give it. */
const CRASHES = [
	["nil", /^panic: runtime error: invalid memory address or nil pointer dereference/],
	["map-writes", /^fatal error: concurrent map writes$/],
	["fatal", /^fatal error: sync: unlock of unlocked mutex$/],
	["fault", /^fatal error: fault/],
	["abort", /SIGABRT/],
	["error", /^panic: shard N: checksum mismatch$/],
] as const;

const scratch = mkdtempSync(join(tmpdir(), "gocrash-go-client-"));
let server: Server;
let ingest: string;
let read: string;

beforeAll(async () => {
	const db = join(scratch, "gocrash.db");
	ingest = token(db, "ingest");
	read = token(db, "read");
	server = await serve(db);
});
afterAll(async () => {
	server.process.kill("SIGTERM");
	await server.exited;
	rmSync(scratch, { recursive: true, force: true });
});

interface Ran {
	readonly status: number | null;
	readonly signal: string | null;
	readonly stdout: string;
	readonly stderr: string;
}

/**
 * Runs the program until it and everything holding its output (the monitor shares its stderr)
 * are done.
 */
function runProgram(
	target: Target,
	bin: string,
	mode: string,
	env: Record<string, string>,
): Promise<Ran> {
	const [command, args] = target.goarch === "arm64" ? ["qemu-aarch64", [bin, mode]] : [bin, [mode]];
	const child = spawn(command, args, {
		env: { PATH: process.env.PATH ?? "", ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	let stdout = "";
	let stderr = "";
	child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
	child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
	return new Promise((done) =>
		child.on("close", (status, signal) => done({ status, signal, stdout, stderr })),
	);
}

/**
 * The crash output up to the end of the first goroutine, ids, thread numbers and addresses masked,
 * and a line repeated at once kept once (two goroutines that see one concurrent map write may both
 * print `fatal error: concurrent map writes`).
 */
function crashHead(text: string): string {
	const goroutine = text.search(/^goroutine \d+ /m);
	const end = goroutine < 0 ? -1 : text.indexOf("\n\n", goroutine);
	return (end < 0 ? text : text.slice(0, end))
		.trimEnd()
		.replace(/0x[0-9a-f]+/g, "0x?")
		.replace(/goroutine \d+/g, "goroutine ?")
		.replace(/\bm=\d+/g, "m=?")
		.split("\n")
		.filter((line, i, lines) => i === 0 || line !== lines[i - 1])
		.join("\n");
}

async function api<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
	const res = await fetch(`${server.url}${path}`, {
		...init,
		headers: {
			authorization: `Bearer ${init?.method === "POST" ? ingest : read}`,
			"content-type": "application/json",
			...(init?.headers as Record<string, string> | undefined),
		},
	});
	return { status: res.status, body: (await res.json()) as T };
}

interface CrashJson {
	id: string;
	kind: string;
	bucket: string;
	host: string;
	service: string;
	version: string;
	text: string;
	attributes: Record<string, string | string[]>;
}

/** The crashes the server holds from one host, in full. */
async function crashesOf(host: string): Promise<CrashJson[]> {
	const list = await api<{ crashes: { id: string }[] }>(
		`/api/v1/crashes?host=${encodeURIComponent(host)}`,
	);
	expect(list.status).toBe(200);
	return Promise.all(
		list.body.crashes.map(async (c) => (await api<CrashJson>(`/api/v1/crashes/${c.id}`)).body),
	);
}

/** The bucket the server gives a text posted directly. */
async function bucketOf(text: string, host: string): Promise<string> {
	const posted = await api<{ crashes: { bucket: string }[] }>("/api/v1/crashes", {
		method: "POST",
		body: JSON.stringify({ text, host, service: "direct" }),
	});
	expect(posted.status).toBe(201);
	expect(posted.body.crashes.length).toBe(1);
	return posted.body.crashes[0]?.bucket as string;
}

function clientEnv(host: string, extra: Record<string, string> = {}): Record<string, string> {
	return {
		GOCRASH_E2E_SERVER: server.url,
		GOCRASH_E2E_TOKEN: ingest,
		GOCRASH_E2E_HOST: host,
		GOCRASH_E2E_SERVICE: "go-client-e2e",
		GOCRASH_E2E_SPOOL: join(scratch, "spool", host),
		...extra,
	};
}

describe.each(TARGETS)("the Go client built with $name", (target) => {
	const runnable = target.go !== null && (target.goarch === "amd64" || hasQemu);
	if (!runnable)
		it.skip(`cannot run: ${target.go === null ? target.why : "no qemu-aarch64 registered with binfmt_misc"}`, () => {});
	const tag = `${target.version}-${target.goarch}`;
	const bin = join(scratch, `goclient-${tag}`);
	const version = /^1\.\d+/;

	beforeAll(async () => {
		if (!runnable) return;
		await buildGoClient(target.go as string, target.goarch, bin);
	}, 300_000);

	it.runIf(runnable)(
		"reports each crash in the bucket of its text, with its attributes; exit status and stderr as without the client",
		async () => {
			await Promise.all(
				CRASHES.map(async ([mode, reason]) => {
					const host = `${tag}-${mode}`;
					const [plain, monitored] = await Promise.all([
						runProgram(target, bin, mode, { GOCRASH_E2E_OFF: "1" }),
						runProgram(target, bin, mode, clientEnv(host)),
					]);
					expect(plain.stderr).not.toBe("");
					expect({ mode, status: monitored.status, signal: monitored.signal }).toEqual({
						mode,
						status: plain.status,
						signal: plain.signal,
					});
					expect(monitored.stdout).toBe(plain.stdout);
					// A signal sent by kill(2) lands on any thread, so the goroutine printed first varies
					// from run to run with or without the client: compare the signal line only.
					const head = mode === "abort" ? (t: string) => t.split("\n")[0] : crashHead;
					expect(head(monitored.stderr)).toBe(head(plain.stderr));
					const [crash, ...more] = await crashesOf(host);
					expect(more).toEqual([]);
					if (crash === undefined) throw new Error(`${mode}: no crash from ${host}`);
					// The monitor got every byte the runtime printed (qemu adds a line of its own).
					// Two goroutines that see one concurrent map write may each print the first line, which
					// the monitor restores once.
					const printed = monitored.stderr
						.replace(/^qemu: uncaught target signal .*\n/m, "")
						.replace(/^(fatal error: [^\n]*\n)\1+/, "$1");
					if (target.version === "1.23" && mode === "map-writes") {
						// Go 1.23 hides runtime.fatal's frame, so the message's address is not in the
						// crash output and its `fatal error:` line cannot be restored (golang/go#76859).
						expect(printed.startsWith("fatal error: concurrent map writes\n")).toBe(true);
						expect(crash.text).toBe(printed.slice(printed.indexOf("\n") + 1));
						return;
					}
					expect(crash.text).toBe(printed);
					expect(crash.bucket).toBe(await bucketOf(plain.stderr, `${host}-direct`));
					const bucket = await api<{ signature: { reason: string } }>(
						`/api/v1/buckets/${crash.bucket}`,
					);
					expect(bucket.body.signature.reason).toMatch(reason);
					expect(crash).toMatchObject({
						kind: "fatal",
						host,
						service: "go-client-e2e",
						version: "3.1.4",
						attributes: {
							region: "e2e-west",
							goarch: target.goarch,
							goos: "linux",
							goVersion: expect.stringMatching(version),
							mainModule: "goclient",
							buildID: expect.stringMatching(/^[\w-]+\/[\w-]+\/[\w-]+\/[\w-]+$/),
						},
					});
					expect(crash.attributes.goVersion).toMatch(new RegExp(`^${target.version}\\b`));
				}),
			);
		},
		240_000,
	);

	it.runIf(runnable)(
		"posts nothing when the program exits, with its output and status unchanged",
		async () => {
			for (const mode of ["exit", "exit-status"]) {
				const host = `${tag}-${mode}`;
				const [plain, monitored] = await Promise.all([
					runProgram(target, bin, mode, { GOCRASH_E2E_OFF: "1" }),
					runProgram(target, bin, mode, clientEnv(host)),
				]);
				expect(monitored).toEqual(plain);
				expect(plain.status).toBe(mode === "exit" ? 0 : 7);
				expect(await crashesOf(host)).toEqual([]);
			}
		},
	);

	it.runIf(runnable)(
		"reports a recovered panic as recovered, in the bucket of the same panic uncaught",
		async () => {
			const host = `${tag}-recovered`;
			const [recovered, uncaught] = await Promise.all([
				runProgram(target, bin, "recovered", clientEnv(host)),
				runProgram(target, bin, "error", clientEnv(`${host}-uncaught`)),
			]);
			expect(recovered).toMatchObject({ status: 0, stdout: "recovered\n", stderr: "" });
			expect(uncaught.status).toBe(2);
			const [report] = await crashesOf(host);
			const [crash] = await crashesOf(`${host}-uncaught`);
			expect(report?.kind).toBe("recovered");
			expect(report?.text).toMatch(
				/^panic: shard 12: checksum mismatch \[recovered\]\n\ngoroutine \d+ \[running\]:\nmain\.explode\(\)\n/,
			);
			expect(report?.bucket).toBe(crash?.bucket);
			expect(report?.attributes.region).toBe("e2e-west");
		},
	);

	it.runIf(runnable)("sends heartbeats the server counts as host-hours", async () => {
		const service = `heartbeat-${tag}`;
		const logged = server.log.length;
		const ran = await runProgram(target, bin, "heartbeat", {
			...clientEnv(`${tag}-heartbeat`),
			GOCRASH_E2E_SERVICE: service,
			GOCRASH_E2E_HEARTBEAT: "100ms",
		});
		expect(ran.status).toBe(0);
		const rates = await api<{ series: { hostHours: number }[] }>(
			`/api/v1/rates?service=${service}&from=${Date.now() - 7_200_000}&to=${Date.now() + 3_600_000}`,
		);
		expect(rates.status).toBe(200);
		expect(rates.body.series.reduce((n, p) => n + p.hostHours, 0)).toBe(1);
		const beats = server.log
			.slice(logged)
			.filter((l) => l.includes('"url":"/api/v1/heartbeats"') && l.includes('"status":200'));
		expect(beats.length).toBeGreaterThanOrEqual(3);
	});

	it.runIf(runnable)(
		"spools the crash when the server is down, in a file the API takes as it is",
		async () => {
			const host = `${tag}-spooled`;
			const spool = join(scratch, "spool", host);
			const began = Date.now();
			const ran = await runProgram(target, bin, "nil", {
				...clientEnv(host),
				GOCRASH_E2E_SERVER: "http://127.0.0.1:9", // discard: nothing listens
				GOCRASH_E2E_RETRY: "1s",
			});
			expect(Date.now() - began).toBeGreaterThanOrEqual(1000);
			expect(ran.status).toBe(2);
			const files = readdirSync(spool);
			expect(files.length).toBe(1);
			const file = JSON.parse(readFileSync(join(spool, files[0] as string), "utf8")) as Record<
				string,
				unknown
			>;
			expect(file).toMatchObject({
				text: ran.stderr.replace(/^qemu: uncaught target signal .*\n/m, ""),
				kind: "fatal",
				host,
				service: "go-client-e2e",
				version: "3.1.4",
				attributes: { region: "e2e-west", goarch: target.goarch },
				idempotencyKey: `${(files[0] as string).replace(/\.json$/, "")}`,
			});
			expect(Date.parse(file.time as string)).toBeGreaterThan(began);
			// What `gocrash collect` will do: post the file as the body, again after a lost answer.
			const body = JSON.stringify(file);
			const first = await api<{ crashes: { id: string }[] }>("/api/v1/crashes", {
				method: "POST",
				body,
			});
			const again = await api<{ crashes: { id: string; duplicate: boolean }[] }>(
				"/api/v1/crashes",
				{ method: "POST", body },
			);
			expect([first.status, again.status]).toEqual([201, 200]);
			expect(again.body.crashes[0]?.id).toBe(first.body.crashes[0]?.id);
			expect((await crashesOf(host)).length).toBe(1);
		},
	);
});
