import { describe, expect, it } from "vitest";
import { parseCrashes } from "../traceback/index.js";
import { collectNotes, decodeModulePath, inferEnvironment } from "./index.js";

function infer(lines: string[], overrides = {}) {
	const text = lines.join("\n");
	return inferEnvironment(parseCrashes(text), collectNotes(text), overrides);
}

const panicIn = (file: string): string[] => [
	"panic: boom",
	"",
	"goroutine 1 [running]:",
	"main.main()",
	"\t/home/u/app/main.go:5 +0x1d",
	"runtime.main()",
	`\t${file} +0x1a4`,
];

describe("inferEnvironment", () => {
	it.each([
		["/usr/lib/go-1.19/src/runtime/proc.go:250", "1.19"],
		["/home/u/sdk/go1.23.4/src/runtime/proc.go:272", "1.23.4"],
		[
			"/root/go/pkg/mod/golang.org/toolchain@v0.0.1-go1.22.3.linux-amd64/src/runtime/proc.go:271",
			"1.22.3",
		],
		["/opt/hostedtoolcache/go/1.21.5/x64/src/runtime/proc.go:267", "1.21.5"],
		// golang/go#29862: a tarball unpacked into a directory named after its release.
		["/usr/local/go1.11.4/go/src/runtime/mgcsweep.go:390", "1.11.4"],
		// moby/moby#38926: openSUSE's golang package.
		["/usr/lib64/go/1.8/src/runtime/panic.go:596", "1.8"],
	])("reads the Go version from the GOROOT path %s", (file, version) => {
		expect(infer(panicIn(file)).goVersion).toEqual({
			value: version,
			source: `GOROOT path ${file.replace(/:\d+$/, "")}`,
		});
	});

	it("has no Go version for /usr/local/go", () => {
		expect(infer(panicIn("/usr/local/go/src/runtime/proc.go:250")).goVersion).toBeNull();
	});

	it("reads GOARCH and GOOS from runtime file names", () => {
		const env = infer([
			"fatal error: traceback did not unwind completely",
			"",
			"runtime stack:",
			"runtime.throw({0x1f2a0c6?, 0x0?})",
			"\t/usr/local/go/src/runtime/panic.go:1101 +0x38 fp=0xfffed8f9e0f0 sp=0xfffed8f9e0c0 pc=0x4a6f8",
			"runtime.systemstack()",
			"\t/usr/local/go/src/runtime/asm_arm64.s:244 +0x6c fp=0xfffed8f9e100 sp=0xfffed8f9e0f0 pc=0x7d88c",
			"runtime.usleep()",
			"\t/usr/local/go/src/runtime/sys_linux_arm64.s:139 +0x10 fp=0xfffed8f9e110 sp=0xfffed8f9e100 pc=0x7e230",
		]);
		expect(env.goarch?.value).toBe("arm64");
		expect(env.goos?.value).toBe("linux");
	});

	it("reads GOOS windows from a Windows exception code in the signal line", () => {
		const env = infer([
			"panic: runtime error: invalid memory address or nil pointer dereference",
			"[signal 0xc0000005 code=0x0 addr=0x0 pc=0x4a5b6c]",
			"",
			"goroutine 1 [running]:",
			"main.main()",
			"\tC:/Users/dev/app/main.go:12 +0x2c",
		]);
		expect(env.goos).toEqual({
			value: "windows",
			source: "Windows exception EXCEPTION_ACCESS_VIOLATION in the signal line",
		});
	});

	it("reads GOARCH from a register dump", () => {
		const env = infer([
			"SIGABRT: abort",
			"PC=0x46b1a1 m=0 sigcode=0",
			"",
			"goroutine 1 [running]:",
			"main.main()",
			"\t/app/main.go:5 +0x1c",
			"",
			"rax    0x0",
			"rbx    0x6",
			"rip    0x46b1a1",
			"rflags 0x246",
		]);
		expect(env.goarch).toEqual({ value: "amd64", source: "register dump names" });
	});

	const stanza = (args: string[]): string[] => [
		"goroutine 7 [select]:",
		`main.(*server).loop(${args[0]})`,
		"\t/srv/app/server.go:88 +0x1d4",
		`main.serve(${args[1]}, 0x3)`,
		"\t/srv/app/main.go:41 +0x58",
	];

	it("reads arm64 from goroutine addresses in the heap arm64's Go puts at 0x4000000000", () => {
		const env = infer(stanza(["0x4000b8c000", "0x40001a6120?"]));
		expect(env.goarch).toEqual({
			value: "arm64",
			source:
				"goroutine addresses such as 0x4000b8c000: Go's heap starts at 0x4000000000 only on arm64",
		});
		expect(env.goarchExcluded).toBeNull();
	});

	it("reads arm64 from addresses in the next arena up, where darwin/arm64's heap is", () => {
		// golang/go#67792's crash on darwin/arm64.
		const env = infer(stanza(["0x1400000e250", "0x140000021c0"]));
		expect(env.goarch?.value).toBe("arm64");
	});

	it("rules out arm64 and 32-bit GOARCH values from addresses in a heap at 0xc000000000", () => {
		const env = infer(stanza(["0xc000b8c000", "0xc0001a6120"]));
		expect(env.goarch).toBeNull();
		expect(env.goarchExcluded?.values).toEqual(["arm64", "386", "arm", "mips", "mipsle"]);
		expect(env.goarchExcluded?.source).toMatch(
			/^goroutine addresses such as 0xc000b8c000: .* -race build$/,
		);
	});

	it("rules out only 32-bit GOARCH values where the text may be of a -race build", () => {
		const race = [
			"==================",
			"WARNING: DATA RACE",
			"Write at 0x00c0000a4010 by goroutine 7:",
			"  main.main.func1()",
			"      /srv/app/main.go:9 +0x44",
			"",
			"Previous write at 0x00c0000a4010 by main goroutine:",
			"  main.main()",
			"      /srv/app/main.go:11 +0x7a",
			"==================",
		];
		const raced = infer([...race, "", ...stanza(["0xc000b8c000", "0xc0001a6120"])]);
		expect(raced.goarchExcluded?.values).toEqual(["386", "arm", "mips", "mipsle"]);
		expect(raced.goarchExcluded?.source).toMatch(/race report/);
		// From Go 1.26 the heap is at a random address, but in -race builds.
		const go126 = infer(stanza(["0xc000b8c000", "0xc0001a6120"]), { goVersion: "1.26.2" });
		expect(go126.goarchExcluded?.values).toEqual(["386", "arm", "mips", "mipsle"]);
		expect(
			infer(stanza(["0x4000b8c000", "0x40001a6120"]), { goVersion: "1.26.2" }).goarch,
		).toBeNull();
	});

	it.each([
		["one address twice", ["0x4000b8c000", "0x4000b8c000"]],
		["one address", ["0x4000b8c000", "0x0"]],
		["addresses of both heaps", ["0x4000b8c000", "0xc0001a6120"]],
		["numbers that are not ten digits", ["0x40001a61", "0xc0001a612000"]],
		// A C thread's stack on Linux is near 0x7f0000000000: not an arena Go picks.
		["thread stacks of C", ["0x7f40a1b2c3d0", "0x7fc0a1b2c3d0"]],
	])("reads nothing from %s", (_, args) => {
		const env = infer(stanza(args));
		expect(env.goarch).toBeNull();
		expect(env.goarchExcluded).toBeNull();
	});

	it("keeps a runtime file name's GOARCH over the heap's", () => {
		const env = infer([
			...stanza(["0xc000b8c000", "0xc0001a6120"]),
			"runtime.goexit()",
			"\t/usr/local/go/src/runtime/asm_arm64.s:1223 +0x4",
		]);
		expect(env.goarch?.value).toBe("arm64");
		expect(env.goarchExcluded).toBeNull();
	});

	it("decodes module versions from module-cache paths", () => {
		expect(decodeModulePath("github.com/!data!dog/netlink")).toBe("github.com/DataDog/netlink");
		const env = infer(
			panicIn(
				"/go/pkg/mod/github.com/!data!dog/netlink@v1.0.1-0.20240223195320-c7a4f832a3d1/nl/nl_linux.go:779",
			),
		);
		expect(env.modules).toEqual([
			{ path: "github.com/DataDog/netlink", version: "v1.0.1-0.20240223195320-c7a4f832a3d1" },
		]);
	});

	it("finds a kernel version printed next to the crash, and lets flags win", () => {
		const lines = [
			"Linux build-7 5.3.10-arch1-1 #1 SMP PREEMPT Sat, 09 Nov 2019 x86_64 GNU/Linux",
			...panicIn("/usr/lib/go-1.14/src/runtime/proc.go:203"),
		];
		expect(infer(lines).kernel?.value).toBe("5.3.10-arch1-1");
		const env = infer(lines, { kernel: "6.1.0", goVersion: "go1.14.15", goarch: "amd64" });
		expect([env.kernel, env.goVersion, env.goarch]).toEqual([
			{ value: "6.1.0", source: "--kernel" },
			{ value: "1.14.15", source: "--go-version" },
			{ value: "amd64", source: "--goarch" },
		]);
	});
});
