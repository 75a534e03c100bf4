import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { SPLIT_SP_SOURCES } from "./_reproduce-source.js";

it("embeds exactly the reproducer in scripts/split-sp-reproducer", () => {
	const dir = new URL("../../scripts/split-sp-reproducer/", import.meta.url);
	expect(Object.keys(SPLIT_SP_SOURCES).sort()).toEqual([
		"go.mod",
		"leaf.go",
		"main.go",
		"nonleaf.go",
	]);
	for (const [name, text] of Object.entries(SPLIT_SP_SOURCES)) {
		expect(text, name).toBe(readFileSync(new URL(name, dir), "utf8"));
	}
});
