// The built gocrash as the benchmarks run it: a token from its CLI, and `gocrash serve` as its own
// process on a free loopback port.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";

export const root = new URL("..", import.meta.url).pathname;
export const cli = join(root, "dist/cli/bin.js");

export function token(db, scope) {
	const ran = spawnSync(process.execPath, [cli, "token", "create", "--db", db, "--scope", scope]);
	if (ran.status !== 0) throw new Error(`token create: ${ran.stderr}`);
	return ran.stdout.toString().trim();
}

export async function serve(db) {
	const child = spawn(process.execPath, [cli, "serve", "--db", db, "--listen", "127.0.0.1:0"], {
		stdio: ["ignore", "ignore", "pipe"],
	});
	const url = await new Promise((done, fail) => {
		let err = "";
		child.stderr.on("data", (d) => {
			err += d;
			const m = /listening on (http:\/\/[\d.:]+)/.exec(err);
			if (m) done(m[1]);
		});
		child.on("exit", () => fail(new Error(`gocrash serve exited: ${err}`)));
	});
	return { child, url };
}

export async function stopServer(server) {
	server.child.kill("SIGTERM");
	await new Promise((done) => server.child.on("exit", done));
}
