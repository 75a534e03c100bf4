import { expect, test } from "vitest";
import { formatBuildInfo, parseModinfo } from "./index.js";

const start = [
	0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02, 0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18, 0xe6,
];
const end = [
	0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72, 0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8, 0xf2,
];

function framed(text: string): Uint8Array {
	return new Uint8Array([...start, ...new TextEncoder().encode(text), ...end]);
}

// The modinfo text of a real go1.24 build with a replaced dependency and quoted settings
// (runtime/debug BuildInfo.String quotes values containing spaces, tabs or quotes).
const text = [
	"path\texample.com/netlink",
	"mod\texample.com/netlink\t(devel)\t",
	"dep\tgithub.com/vishvananda/netlink\tv1.1.0\t",
	"=>\t./deps/netlink\t(devel)\t",
	"dep\tgolang.org/x/sys\tv0.3.0\th1:abc=",
	'build\t-ldflags="-s -w"',
	'build\t"we=ird"="a\\tb"',
	"build\tGOARCH=arm64",
	"",
].join("\n");

test("modinfo: modules, replacements and quoted settings", () => {
	const info = parseModinfo("go1.24.4", framed(text));
	expect(info.path).toBe("example.com/netlink");
	expect(info.main).toEqual({ path: "example.com/netlink", version: "(devel)", sum: "" });
	expect(info.deps).toEqual([
		{
			path: "github.com/vishvananda/netlink",
			version: "v1.1.0",
			sum: "",
			replace: { path: "./deps/netlink", version: "(devel)", sum: "" },
		},
		{ path: "golang.org/x/sys", version: "v0.3.0", sum: "h1:abc=" },
	]);
	expect(info.settings).toEqual([
		{ key: "-ldflags", value: "-s -w" },
		{ key: "we=ird", value: "a\tb" },
		{ key: "GOARCH", value: "arm64" },
	]);
	expect(formatBuildInfo(info)).toContain('\tbuild\t-ldflags="-s -w"');
});

test("modinfo without the newline before the end sentinel is empty (debug/buildinfo)", () => {
	const info = parseModinfo("go1.19.8", framed("path\tx"));
	expect(info.path).toBe("");
	expect(info.deps).toEqual([]);
});
