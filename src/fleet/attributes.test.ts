import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inferEnvironment } from "../diagnose/index.js";
import { parseCrashes } from "../traceback/index.js";
import { crashAttributes } from "./index.js";

const FIXTURES = join(import.meta.dirname, "../../test/fixtures");
const attributesOf = (text: string): Array<readonly [string, string]> => {
	const result = parseCrashes(text);
	const crash = result.crashes[0];
	if (crash === undefined) throw new Error("no crash in the text");
	return crashAttributes(crash, inferEnvironment(result, []));
};
const read = (path: string): string => readFileSync(join(FIXTURES, path), "utf8");

describe("crashAttributes", () => {
	it("names the split-SP victim as preempted, and arm64, in all six texts", () => {
		const dir = join(FIXTURES, "diagnose/split-sp");
		const names = readdirSync(dir).filter((n) => n.endsWith(".txt"));
		expect(names.length).toBe(6);
		for (const name of names) {
			const attrs = attributesOf(readFileSync(join(dir, name), "utf8"));
			expect(attrs, name).toContainEqual(["preempted", "main.big_stack"]);
			expect(attrs, name).toContainEqual(["goarch", "arm64"]);
			expect(new Set(attrs.map((a) => a.join("\0"))).size, name).toBe(attrs.length);
		}
	});

	it("names every function a goroutine was preempted in, once each", () => {
		const attrs = attributesOf(read("diagnose/split-sp/go1.21.13-arm64-leaf.txt"));
		const preempted = attrs.filter(([n]) => n === "preempted").map(([, v]) => v);
		expect(preempted.sort()).toEqual(["main.big_stack", "main.work"]);
	});

	it("names the top program function of each running goroutine, without arguments", () => {
		const attrs = attributesOf(read("crashes/go1.26.10-amd64/nil-pointer.txt"));
		expect(attrs).toContainEqual(["running", "main.(*config).listenPort"]);
		for (const [, value] of attrs) expect(value).not.toMatch(/\(0x|\.go:/);
	});

	it("takes Go version, GOARCH and GOOS from the text, and modules from module-cache paths", () => {
		// GOTRACEBACK=system prints runtime frames, whose GOROOT paths carry the version.
		const text = read("crashes/go1.26.10-amd64/nil-pointer.system.txt").replaceAll(
			"/tmp/crashgen/",
			"/home/ci/go/pkg/mod/github.com/!acme/crashgen@v1.4.2/",
		);
		const attrs = attributesOf(text);
		expect(attrs).toContainEqual(["goVersion", "1.26"]);
		expect(attrs).toContainEqual(["goarch", "amd64"]);
		// No runtime file named after the OS was printed: GOOS is unknown, so it is left out.
		expect(attrs.map(([n]) => n)).not.toContain("goos");
		expect(attrs).toContainEqual(["module:github.com/Acme/crashgen", "v1.4.2"]);
		expect(attrs.filter(([n]) => n === "preempted")).toEqual([]);
	});

	it("takes what the environment was told", () => {
		const result = parseCrashes(read("crashes/go1.26.10-arm64/nil-pointer.txt"));
		const crash = result.crashes[0];
		if (crash === undefined) throw new Error("no crash");
		const attrs = crashAttributes(crash, inferEnvironment(result, [], { goos: "linux" }));
		expect(attrs).toContainEqual(["goos", "linux"]);
	});

	it("leaves out what the environment does not know", () => {
		const result = parseCrashes(read("crashes/go1.26.10-amd64/nil-pointer.txt"));
		const crash = result.crashes[0];
		if (crash === undefined) throw new Error("no crash");
		const attrs = crashAttributes(crash, {
			goVersion: null,
			goarch: null,
			goos: null,
			kernel: null,
			modules: [],
		});
		expect(attrs.map(([n]) => n)).toEqual(["running"]);
	});
});
