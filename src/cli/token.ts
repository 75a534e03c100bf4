import { newToken } from "../server/index.js";
import { TOKEN_SCOPES, type TokenScope } from "../store/index.js";
import type { Command } from "./_io.js";
import { parseCommandArgs, UsageError } from "./_io.js";
import { openCliStore } from "./_store.js";

const usage = `usage: gocrash token create [--db PATH|postgres://…] --scope ingest|read|admin [--name N]

Creates a token for the fleet service and prints it once: only its hash is stored. Ingest tokens
can only send crashes and heartbeats; read tokens can only read; admin tokens manage alert rules
and read alerts.

  --db D      the service's database (default ./gocrash.db)
  --scope S   ingest, read or admin
  --name N    a name to know it by in the request log (default: the scope)
`;

/** `gocrash token create`: a new API token, printed once. */
export const tokenCommand: Command = {
	name: "token",
	summary: "create an ingest, read or admin token for the fleet service",
	usage,
	async run(args, io) {
		const { values, positionals } = parseCommandArgs(args, {
			db: { type: "string", default: "gocrash.db" },
			scope: { type: "string" },
			name: { type: "string" },
		});
		if (positionals[0] !== "create" || positionals.length > 1)
			throw new UsageError("the only action is 'create'");
		const scope = values.scope;
		if (scope === undefined || !(TOKEN_SCOPES as readonly string[]).includes(scope))
			throw new UsageError(`--scope: give ${TOKEN_SCOPES.join(", ")}`);
		const name = values.name ?? scope;
		if (name.length > 100) throw new UsageError("--name: at most 100 characters");
		const store = await openCliStore(values.db, io.cwd);
		try {
			const { secret, record } = newToken(scope as TokenScope, name, Date.now());
			await store.createToken(record);
			io.stdout.write(`${secret}\n`);
			return 0;
		} finally {
			await store.close();
		}
	},
};
