import { type FileHandle, open, stat } from "node:fs/promises";
import { glob } from "tinyglobby";
import { type Attributes, pathOrigin } from "./_origin.js";
import type { ReportBody } from "./_spool.js";
import { LogStream, type StreamOrigin, type StreamState } from "./_stream.js";

/** What is saved of one followed file: which file it is, how far it was read, what its stream holds. */
export interface FileState extends StreamState {
	readonly path: string;
	readonly offset: number;
}

/** A report cut out of a file, with the file's path. */
export interface SourceReport {
	readonly from: string;
	readonly body: ReportBody;
}

/** How files are followed. */
export interface FollowOptions {
	readonly patterns: readonly string[];
	readonly host: string;
	/** --service, or null to take the container's name where the path gives one. */
	readonly service: string | null;
	readonly attributes: Attributes;
	/** Files found at the first look with nothing saved of them: read whole (true) or from their end. */
	readonly fromStart: boolean;
	readonly now: () => number;
	readonly log: (line: string) => void;
}

/** Most bytes read from one file in one look, so that one busy file cannot starve the others. */
const READ_LIMIT = 4 * 1024 * 1024;
const CHUNK = 256 * 1024;

interface Followed {
	readonly id: string;
	path: string;
	handle: FileHandle;
	offset: number;
	readonly stream: LogStream;
	/** True while a path of the patterns still names this file. */
	named: boolean;
}

/**
 * Follows files like `tail -F`: the patterns are looked at again each time, so new files are
 * found; a file is known by its device and inode, so a renamed (rotated) file is read to its end
 * under its new name or through the open handle, and its successor from its start; a file that
 * shrank (copytruncate) is read again from its start.
 */
export class FileFollower {
	readonly #options: FollowOptions;
	readonly #files = new Map<string, Followed>();
	#saved: Map<string, FileState>;
	#first = true;

	constructor(options: FollowOptions, saved: ReadonlyMap<string, FileState>) {
		this.#options = options;
		this.#saved = new Map(saved);
	}

	/** Looks for new files and new text; returns the reports completed, each with its stream. */
	async look(quietMs: number): Promise<SourceReport[]> {
		const reports: SourceReport[] = [];
		const named = await this.#find();
		for (const file of this.#files.values()) file.named = false;
		for (const [path, id] of named) {
			const known = this.#files.get(id);
			if (known !== undefined) {
				known.named = true;
				known.path = path;
			} else {
				const opened = await this.#open(path, id);
				if (opened !== null) this.#files.set(id, opened);
			}
		}
		this.#first = false;
		for (const file of [...this.#files.values()]) {
			reports.push(...(await this.#read(file)));
			const quiet = this.#options.now() - file.stream.lastData >= quietMs;
			if (file.stream.open && quiet) reports.push(...from(file, file.stream.flush()));
			if (!file.named && quiet && !file.stream.open) {
				// Rotated away or deleted, and read to its end: forget it.
				await file.handle.close();
				this.#files.delete(file.id);
			}
		}
		this.#saved = new Map();
		return reports;
	}

	/** Ends every stream (the input is over): returns the reports still open. */
	flush(): SourceReport[] {
		return [...this.#files.values()].flatMap((f) => from(f, f.stream.flush()));
	}

	/** What to save: every followed file's position and what its stream holds. */
	get state(): Map<string, FileState> {
		const state = new Map<string, FileState>();
		for (const f of this.#files.values())
			state.set(f.id, { path: f.path, offset: f.offset, ...f.stream.state });
		return state;
	}

	/** Closes every file. */
	async close(): Promise<void> {
		await Promise.all([...this.#files.values()].map((f) => f.handle.close()));
		this.#files.clear();
	}

	/** The files the patterns name now, by path, with their device:inode ids. */
	async #find(): Promise<Map<string, string>> {
		const paths = await glob([...this.#options.patterns], {
			absolute: true,
			onlyFiles: true,
			followSymbolicLinks: true,
			expandDirectories: false,
		});
		const found = new Map<string, string>();
		for (const path of paths.sort()) {
			const info = await stat(path).catch(() => null);
			if (info === null || !info.isFile()) continue;
			const id = `${info.dev}:${info.ino}`;
			// /var/log/containers links to /var/log/pods: the first name found is kept.
			if (![...found.values()].includes(id)) found.set(path, id);
		}
		return found;
	}

	async #open(path: string, id: string): Promise<Followed | null> {
		let handle: FileHandle;
		try {
			handle = await open(path, "r");
		} catch (error) {
			this.#options.log(`cannot read ${path}: ${(error as Error).message}`);
			return null;
		}
		const size = (await handle.stat()).size;
		const saved = this.#saved.get(id);
		let offset = 0;
		let state: StreamState | null = null;
		if (saved !== undefined && saved.offset <= size) {
			offset = saved.offset;
			state = saved;
		} else if (this.#first && !this.#options.fromStart && saved === undefined) offset = size;
		const found = pathOrigin(path);
		const origin: StreamOrigin = {
			host: this.#options.host,
			service: this.#options.service ?? found.service ?? "",
			attributes: [...this.#options.attributes, ...found.attributes],
		};
		const said = found.attributes.map(([n, v]) => `${n}=${v}`).join(", ");
		this.#options.log(
			`following ${path}${offset > 0 ? ` from byte ${offset}` : ""}${said === "" ? "" : ` (${said})`}`,
		);
		return {
			id,
			path,
			handle,
			offset,
			named: true,
			stream: new LogStream(id, origin, state, this.#options.now),
		};
	}

	async #read(file: Followed): Promise<SourceReport[]> {
		const reports: SourceReport[] = [];
		const size = (await file.handle.stat()).size;
		if (size < file.offset) {
			this.#options.log(
				`${file.path} shrank from ${file.offset} to ${size} bytes: reading it again from its start`,
			);
			reports.push(...from(file, file.stream.flush()));
			file.offset = 0;
		}
		const buffer = Buffer.allocUnsafe(CHUNK);
		let read = 0;
		while (read < READ_LIMIT) {
			const { bytesRead } = await file.handle.read(buffer, 0, CHUNK, file.offset);
			if (bytesRead === 0) break;
			// Only whole lines are taken, so that a saved offset never falls inside a line or a
			// character; a line longer than a chunk is taken in pieces (the parser cuts it anyway).
			const newline = buffer.lastIndexOf(0x0a, bytesRead - 1);
			const take = newline >= 0 ? newline + 1 : bytesRead === CHUNK ? bytesRead : 0;
			if (take === 0) break;
			reports.push(...from(file, file.stream.write(buffer.toString("utf8", 0, take))));
			file.offset += take;
			read += take;
			if (bytesRead < CHUNK) break;
		}
		return reports;
	}
}

function from(file: Followed, bodies: readonly ReportBody[]): SourceReport[] {
	return bodies.map((body) => ({ from: file.path, body }));
}
