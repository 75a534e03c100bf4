import { expect, test } from "vitest";
import { hasNonLeafFix, parseGoVersion } from "./index.js";

test.each([
	["go1.19.8", false],
	["go1.22.12", false],
	["go1.23.11", false],
	["go1.23.12", true],
	["go1.24.5", false],
	["go1.24.6", true],
	["go1.25.0", true],
	["go1.25rc2", undefined],
	["go1.26.10 X:boringcrypto", true],
	["devel go1.26-abcdef0 Tue Jan 2 2026", undefined],
	["go1.20", false],
])("%s has the non-leaf fix: %s", (version, fixed) => {
	expect(hasNonLeafFix(version)).toBe(fixed);
});

test("version forms", () => {
	expect(parseGoVersion("go1.21rc2")).toEqual({ minor: 21, patch: 0, prerelease: true });
	expect(parseGoVersion("go1.20")).toEqual({ minor: 20, patch: 0, prerelease: false });
	expect(parseGoVersion("go1.24.4")).toEqual({ minor: 24, patch: 4, prerelease: false });
	expect(parseGoVersion("gccgo")).toBeUndefined();
});
