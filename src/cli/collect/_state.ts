import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../_io.js";
import type { FileState } from "./_files.js";
import type { JournalState } from "./_journal.js";
import type { StreamState } from "./_stream.js";

/** The name of the file that keeps the read positions, in the state directory. */
export const POSITIONS = "positions.json";

const VERSION = 1;

/** Everything the collector saves between runs. */
export interface Positions {
	readonly files: ReadonlyMap<string, FileState>;
	readonly journal: JournalState | null;
}

/** Reads the saved positions; none when the collector never ran with this state directory. */
export async function loadPositions(dir: string): Promise<Positions | null> {
	const path = join(dir, POSITIONS);
	let text: string;
	try {
		text = await readFile(path, "utf8");
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
		throw error;
	}
	let saved: { version?: unknown; files?: unknown; journal?: unknown };
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
	return { files, journal: readJournal(saved.journal) };
}

function readJournal(value: unknown): JournalState | null {
	if (typeof value !== "object" || value === null) return null;
	const j = value as { cursor?: unknown; streams?: unknown };
	const streams: Record<string, StreamState> = {};
	if (typeof j.streams === "object" && j.streams !== null)
		for (const [key, s] of Object.entries(j.streams as Record<string, Partial<StreamState>>))
			if (typeof s.held === "string" && typeof s.reports === "number")
				streams[key] = { held: s.held, reports: s.reports };
	return { cursor: typeof j.cursor === "string" ? j.cursor : null, streams };
}

/** Saves the positions durably: written beside the file, flushed to disk, renamed over it. */
export async function savePositions(dir: string, positions: Positions): Promise<void> {
	await mkdir(dir, { recursive: true, mode: 0o700 });
	const path = join(dir, POSITIONS);
	const tmp = `${path}.${process.pid}.tmp`;
	const file = await open(tmp, "w", 0o600);
	try {
		await file.writeFile(
			`${JSON.stringify({ version: VERSION, files: Object.fromEntries(positions.files), journal: positions.journal })}\n`,
		);
		await file.sync();
	} finally {
		await file.close();
	}
	await rename(tmp, path);
}
