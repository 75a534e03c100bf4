import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../_io.js";
import type { FileState } from "./_files.js";

/** The name of the file that keeps the read positions, in the state directory. */
export const POSITIONS = "positions.json";

const VERSION = 1;

/** Reads the saved positions; none when the collector never ran with this state directory. */
export async function loadPositions(dir: string): Promise<Map<string, FileState> | null> {
	const path = join(dir, POSITIONS);
	let text: string;
	try {
		text = await readFile(path, "utf8");
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
		throw error;
	}
	let saved: { version?: unknown; files?: unknown };
	try {
		saved = JSON.parse(text) as typeof saved;
	} catch (error) {
		throw new InputError(
			`${path}: not JSON (${(error as Error).message}); move it away to start afresh`,
		);
	}
	if (saved.version !== VERSION || typeof saved.files !== "object" || saved.files === null)
		throw new InputError(
			`${path}: not positions of this gocrash (version ${String(saved.version)}); move it away to start afresh`,
		);
	const files = new Map<string, FileState>();
	for (const [id, value] of Object.entries(saved.files)) {
		const f = value as Partial<FileState>;
		if (
			typeof f.path === "string" &&
			typeof f.offset === "number" &&
			typeof f.held === "string" &&
			typeof f.reports === "number"
		)
			files.set(id, { path: f.path, offset: f.offset, held: f.held, reports: f.reports });
	}
	return files;
}

/** Saves the positions durably: written beside the file, flushed to disk, renamed over it. */
export async function savePositions(
	dir: string,
	files: ReadonlyMap<string, FileState>,
): Promise<void> {
	await mkdir(dir, { recursive: true, mode: 0o700 });
	const path = join(dir, POSITIONS);
	const tmp = `${path}.${process.pid}.tmp`;
	const file = await open(tmp, "w", 0o600);
	try {
		await file.writeFile(
			`${JSON.stringify({ version: VERSION, files: Object.fromEntries(files) })}\n`,
		);
		await file.sync();
	} finally {
		await file.close();
	}
	await rename(tmp, path);
}
