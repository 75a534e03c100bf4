import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * The body of `POST /api/v1/crashes` with its idempotency key: what a spool file holds, in the
 * same form as the Go client's spool (client/go/spool.go), so that one reader posts both.
 */
export interface ReportBody {
	readonly text: string;
	readonly kind: "fatal" | "recovered";
	readonly time: string;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly attributes: Readonly<Record<string, string>>;
	readonly idempotencyKey: string;
}

/** One report waiting in a spool directory. */
export interface SpoolFile {
	readonly path: string;
	readonly size: number;
	readonly mtime: number;
}

/** Where refused reports are kept, under each spool directory, with the server's answer. */
export const REJECTED = "rejected";

/**
 * A directory of reports not yet taken by the server, one `KEY.json` file each, written under a
 * name starting with `.` and renamed, so that a reader never sees half a file; bounded in size:
 * when a new report does not fit, the oldest are dropped and counted. Only this process writes
 * it: what it holds is read from disk once and then kept in memory.
 */
export class Spool {
	readonly dir: string;
	readonly #maxBytes: number;
	/** The reports held, oldest first, by name with their sizes; null until first needed. */
	#held: Map<string, number> | null = null;
	#bytes = 0;

	constructor(dir: string, maxBytes: number) {
		this.dir = dir;
		this.#maxBytes = maxBytes;
	}

	/** Stores `body` durably; returns how many older reports were dropped to make room. */
	async put(body: ReportBody): Promise<number> {
		const held = await this.#index();
		const name = `${body.idempotencyKey}.json`;
		const data = `${JSON.stringify(body, null, "\t")}\n`;
		const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
		const file = await open(tmp, "w", 0o600);
		try {
			await file.writeFile(data);
			await file.sync();
		} finally {
			await file.close();
		}
		await rename(tmp, join(this.dir, name));
		this.#forget(name);
		held.set(name, Buffer.byteLength(data));
		this.#bytes += Buffer.byteLength(data);
		let dropped = 0;
		for (const [oldest, size] of held) {
			if (this.#bytes <= this.#maxBytes || oldest === name) break;
			await rm(join(this.dir, oldest), { force: true });
			held.delete(oldest);
			this.#bytes -= size;
			dropped++;
		}
		return dropped;
	}

	/** Says that the report at `path` left the spool (sent, or moved away as refused). */
	removed(path: string): void {
		if (dirname(path) === this.dir) this.#forget(basename(path));
	}

	#forget(name: string): void {
		const size = this.#held?.get(name);
		if (size === undefined) return;
		this.#held?.delete(name);
		this.#bytes -= size;
	}

	async #index(): Promise<Map<string, number>> {
		if (this.#held !== null) return this.#held;
		await mkdir(this.dir, { recursive: true, mode: 0o700 });
		const held = new Map<string, number>();
		let bytes = 0;
		for (const file of await listSpool(this.dir)) {
			held.set(basename(file.path), file.size);
			bytes += file.size;
		}
		this.#held = held;
		this.#bytes = bytes;
		return held;
	}
}

/** The reports in a spool directory, oldest first; none when it does not exist. */
export async function listSpool(dir: string): Promise<SpoolFile[]> {
	let names: string[];
	try {
		names = await readdir(dir);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
		throw error;
	}
	const files: SpoolFile[] = [];
	for (const name of names) {
		if (name.startsWith(".") || !name.endsWith(".json")) continue;
		const path = join(dir, name);
		const info = await stat(path).catch(() => null);
		if (info?.isFile()) files.push({ path, size: info.size, mtime: info.mtimeMs });
	}
	return files.sort((a, b) => a.mtime - b.mtime || a.path.localeCompare(b.path));
}
