import { mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Opens a new file for reading and writing that is unlinked as soon as it is open: nothing is
 * left behind, whatever happens to the process.
 */
export function openScratchFile(name: string): number {
	const dir = mkdtempSync(join(tmpdir(), "gocrash-"));
	try {
		return openSync(join(dir, name), "w+");
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}
