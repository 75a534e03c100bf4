// Copies the knowledge base's rule files (src/knowledge/rules/*.json) next to the compiled
// knowledge module (dist/knowledge/rules/), where `gocrash diagnose` reads them at run time.
// Run by `npm run build` after tsc.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";

const from = new URL("../src/knowledge/rules/", import.meta.url);
const to = new URL("../dist/knowledge/rules/", import.meta.url);
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) {
	if (name.endsWith(".json")) copyFileSync(new URL(name, from), new URL(name, to));
}
