import { readFileSync } from "node:fs";
import { join } from "node:path";
import { signCrash } from "../src/fleet/index.js";
import { parseCrashes } from "../src/traceback/index.js";

// Crash texts as the shipping tests write them into logs: the generator's fixtures, between log
// lines, or as the kubelet writes a container's output.
const FIXTURES = new URL("./fixtures/crashes/go1.24.4-amd64/", import.meta.url).pathname;
export const fixture = (name: string): string =>
	readFileSync(join(FIXTURES, `${name}.txt`), "utf8");
/** The bucket a crash text goes to when posted on its own. */
export const bucketOf = (text: string): string => {
	const crash = parseCrashes(text).crashes[0];
	if (crash === undefined) throw new Error("no crash");
	return signCrash(crash).id;
};

export const logLines = (n: number, tag: string): string =>
	Array.from({ length: n }, (_, i) => `2026-12-04T06:00:00Z INFO ${tag} ${i}\n`).join("");

/** A crash text as the kubelet writes it: CRI lines, the long ones split into P(artial) pieces. */
export const cri = (text: string): string =>
	text
		.trimEnd()
		.split("\n")
		.map((line) =>
			line.length > 20
				? `2026-12-04T06:10:00.000000001Z stderr P ${line.slice(0, 20)}\n2026-12-04T06:10:00.000000002Z stderr F ${line.slice(20)}\n`
				: `2026-12-04T06:10:00.000000001Z stderr F ${line}\n`,
		)
		.join("");
