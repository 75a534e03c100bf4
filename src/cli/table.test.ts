import { stripVTControlCharacters } from "node:util";
import { expect, test } from "vitest";
import { alignColumns } from "./_table.js";

test("aligns columns by what shows, colour escapes taking no room", () => {
	const red = (s: string) => `\u001b[31m${s}\u001b[39m`;
	const lines = alignColumns([
		["A", "MARKS", "ID"],
		["1", red("new"), "x"],
		["22", "-", "y"],
	]);
	expect(lines.map((l) => stripVTControlCharacters(l))).toEqual([
		"A   MARKS  ID",
		"1   new    x",
		"22  -      y",
	]);
	expect(lines[1]).toContain(`${red("new")}    x`);
});
