import { resolve } from "node:path";
import { isPostgresUrl, openStore, type Store, StoreError } from "../store/index.js";
import { InputError } from "./_io.js";

/** Opens the store a `--db` value names, relative paths from `cwd`; a bad one is an input error. */
export async function openCliStore(db: string, cwd: string): Promise<Store> {
	try {
		return await openStore(isPostgresUrl(db) ? db : resolve(cwd, db));
	} catch (error) {
		if (error instanceof StoreError) throw new InputError(error.message);
		throw error;
	}
}
