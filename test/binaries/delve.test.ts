// Differential test against Debian's Delve (1.20.2, from scripts/oracle-tools.sh): on the same real
// cores of test/binaries/corecrash (scripts/run-corecrash.sh: the kernel's core of a
// GOTRACEBACK=crash abort and gdb's gcore of the idle program, amd64; QEMU's core of the abort,
// arm64), `dlv core BIN CORE` running `goroutines -t 100` and `goroutines -g` must list the
// goroutines `gocrash core --json` reads, with the same stacks, current user locations, created-by
// locations and threads. Delve supports Go up to 1.20, so only Go 1.19 is its own ground; newer
// toolchains are read with --check-go-version=false, which still reads goroutines and stacks but
// names wait reasons from Go 1.20's table (Go 1.21 renumbered them), so those are compared for
// Go 1.19 only. Go 1.25 writes DWARF 5, whose line tables Delve 1.20 reads with the file numbers
// one off (runtime.forcegchelper "at runtime/plugin.go:373", runtime.goexit "at ?:1693"): from Go
// 1.25 on, file names are left out of the comparison, lines are not. Where the two differ by design
// the test says how (docs/core.md lists it).
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CORE_VERSIONS, type CoreJson, readCoreJson } from "./_core-json.js";

const root = new URL("../../", import.meta.url).pathname;
const work = `${root}.cache/delve`;
const run = promisify(execFile);

/** A location as Delve prints it: `file:line function (pc)`. */
interface DelveLocation {
	file: string;
	line: number;
	function: string;
	pc: string;
}

/** One goroutine of a `goroutines` listing. */
interface DelveGoroutine {
	id: number;
	/** The location the listing shows: the user location (`-u`, `-t`) or the go statement's (`-g`). */
	location: DelveLocation;
	thread: number | null;
	waitReason: string | null;
	/** The `-t` stack, innermost first. */
	frames: DelveLocation[];
}

const header =
	/^[* ] Goroutine (\d+) - (?:User|Go): (\S*):(\d+) (.+) \((0x[0-9a-f]+)\)(?: \(thread (\d+)\))?(?: \[(.*)\])?$/;
const frameLine = /^\s+\d+\s+0x([0-9a-f]+) in (.+)$/;
const atLine = /^\s+at (.+):(\d+)$/;
const listingEnd = /^\[(\d+) goroutines\]$/;

/** Reads the `goroutines` listings of a Delve session's output, in order. */
function parseListings(text: string): DelveGoroutine[][] {
	const listings: DelveGoroutine[][] = [];
	let cur: DelveGoroutine[] = [];
	let pc: string | undefined;
	let fn = "";
	for (const line of text.split("\n")) {
		const h = header.exec(line);
		const f = frameLine.exec(line);
		const a = atLine.exec(line);
		const end = listingEnd.exec(line);
		if (h !== null) {
			cur.push({
				id: Number(h[1]),
				location: {
					file: h[2] as string,
					line: Number(h[3]),
					function: h[4] as string,
					pc: h[5] as string,
				},
				thread: h[6] === undefined ? null : Number(h[6]),
				waitReason: h[7] ?? null,
				frames: [],
			});
		} else if (f !== null) {
			pc = `0x${BigInt(`0x${f[1]}`).toString(16)}`;
			fn = f[2] as string;
		} else if (a !== null && pc !== undefined) {
			cur.at(-1)?.frames.push({ file: a[1] as string, line: Number(a[2]), function: fn, pc });
			pc = undefined;
		} else if (end !== null) {
			expect(cur.length, line).toBe(Number(end[1]));
			listings.push(cur);
			cur = [];
		}
	}
	return listings;
}

/** Runs `dlv core BIN CORE` on `goroutines -t 100` and `goroutines -g`; returns both listings. */
async function delveGoroutines(dlv: string, bin: string, core: string, version: string) {
	const init = `${work}/init.txt`;
	writeFileSync(init, "goroutines -t 100\ngoroutines -g\nexit\n");
	const check = Number(version.split(".")[1]) <= 20 ? [] : ["--check-go-version=false"];
	const { stdout } = await run(
		dlv,
		["core", bin, core, "--init", init, "--allow-non-terminal-interactive=true", ...check],
		{ encoding: "utf8", maxBuffer: 64 << 20 },
	);
	const listings = parseListings(stdout);
	expect(listings.length, stdout).toBe(2);
	const [stacks, goStatements] = listings as [DelveGoroutine[], DelveGoroutine[]];
	return { stacks: new Map(stacks.map((g) => [g.id, g])), goStatements };
}

type Frame = CoreJson["goroutines"][number]["frames"][number];

/**
 * Delve's user location (`goroutines -u`, the default) computed from gocrash's frames: Delve walks
 * physical frames only (inlined frames share the pc and sp of the one they were inlined into) and
 * takes the first of the first 30 whose function is not a private runtime function (a name with a
 * package, not `runtime.` + lower case, not under `internal/` or `runtime/internal/`), naming the
 * physical function with the file:line of the innermost frame inlined there; without one, the top
 * frame.
 */
function userLocation(frames: readonly Frame[]): DelveLocation | undefined {
	const physical: Frame[][] = [];
	for (const f of frames) {
		const last = physical.at(-1);
		if (last?.[0]?.pc === f.pc && last[0].sp === f.sp) last.push(f);
		else physical.push([f]);
	}
	for (const group of physical.slice(0, 30)) {
		const outer = group.at(-1) as Frame;
		const inner = group[0] as Frame;
		const name = outer.function;
		const privateRuntime = name.startsWith("runtime.") && !/^runtime\.[A-Z]/.test(name);
		if (
			name.includes(".") &&
			!privateRuntime &&
			!name.startsWith("internal/") &&
			!name.startsWith("runtime/internal")
		) {
			return { file: inner.file, line: inner.line, function: name, pc: outer.pc };
		}
	}
	return undefined;
}

/**
 * A gocrash frame in Delve's terms: the runtime's traceback (and so gocrash) prints
 * runtime.gopanic as `panic`, Delve by its symbol name.
 */
const frameLocation = (f: Frame): DelveLocation => ({
	file: f.file,
	line: f.line,
	function: f.function === "panic" ? "runtime.gopanic" : f.function,
	pc: f.pc,
});

/** Whether Delve 1.20 reads the binary's file names: not DWARF 5's (Go 1.25 and later). */
const readsFiles = (version: string): boolean => Number(version.split(".")[1]) < 25;

/** Leaves the file names out of locations that Delve cannot name the files of. */
function comparable<T extends DelveLocation | undefined>(l: T, version: string): T {
	return l === undefined || readsFiles(version) ? l : { ...l, file: "" };
}

/**
 * Compares one core's goroutines as gocrash and Delve read them. `kind` says which core: the
 * kernel's or QEMU's of the abort (`crash`), or gdb's of the live program (`gcore`).
 */
function expectSameGoroutines(
	got: CoreJson,
	read: Awaited<ReturnType<typeof delveGoroutines>>,
	version: string,
	kind: "crash" | "gcore",
): void {
	const same = (l: DelveLocation) => comparable(l, version);
	const sameGoroutine = (g: DelveGoroutine): DelveGoroutine => ({
		...g,
		location: same(g.location),
		frames: g.frames.map(same),
	});
	const delve = {
		stacks: new Map([...read.stacks].map(([id, g]) => [id, sameGoroutine(g)])),
		goStatements: read.goStatements.map(sameGoroutine),
	};
	const location = (f: Frame) => same(frameLocation(f));
	const ids = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b);
	expect(ids(delve.stacks.keys())).toEqual(ids(got.goroutines.map((g) => g.id)));
	// The goroutines on a thread (Delve's `(thread N)`) are the running ones and those in a syscall.
	expect(ids([...delve.stacks.values()].filter((g) => g.thread !== null).map((g) => g.id))).toEqual(
		ids(got.goroutines.filter((g) => /^(running|syscall)/.test(g.status)).map((g) => g.id)),
	);
	for (const g of got.goroutines) {
		const d = delve.stacks.get(g.id) as DelveGoroutine;
		const what = `go${version} ${got.goarch} ${kind}: goroutine ${g.id}`;
		if (version === "1.19") expect(d.waitReason, what).toBe(g.waitReason);
		if (d.thread === null) {
			// Parked: unwound from g.sched by both, frame by frame. Only the top frame's line differs:
			// Delve gives the line of the pc itself, the runtime the line of the call before it (the pc
			// is the return address of gopark's mcall).
			expect(
				d.frames.map((f) => ({ ...f, line: 0 })),
				what,
			).toEqual(g.frames.map((f) => ({ ...location(f), line: 0 })));
			expect(d.frames.slice(1), what).toEqual(g.frames.slice(1).map(location));
			const user = userLocation(g.frames);
			if (user !== undefined) expect(d.location, what).toEqual(same(user));
			else expect(d.location.pc, what).toBe(g.frames[0]?.pc);
		} else if (g.status.startsWith("syscall")) {
			// In a syscall: the runtime (and gocrash) starts at g.syscallpc and g.syscallsp, the caller
			// of entersyscall; Delve at the thread's registers, inside the system call. Below that
			// first frame the stacks are the same.
			const below = g.frames.slice(1).map(location);
			expect(d.frames.slice(d.frames.length - below.length), what).toEqual(below);
			expect(d.frames[d.frames.length - below.length - 1]?.function, what).toBe(
				g.frames[0]?.function,
			);
		} else {
			// Running, the thread that aborted: both start at its registers, in runtime.raise.
			expect(d.frames[0], what).toEqual(location(g.frames[0] as Frame));
			expect(d.thread, what).toBe(got.signal?.thread);
			if (got.goarch === "arm64") {
				// Delve 1.20 does not unwind through an arm64 signal frame: it repeats
				// runtime.sigtramp until the depth asked for.
				expect(
					d.frames.slice(-3).map((f) => f.function),
					what,
				).toEqual(Array(3).fill("runtime.sigtramp"));
				continue;
			}
			// The thread is in the SIGABRT handler, which the abort's first raise entered: Delve
			// unwinds the handler's frames on the signal stack, then crosses the signal frame at
			// runtime.sigreturn (runtime.sigreturn__sigaction since Go 1.21, where Delve 1.20 also
			// reads a "???" frame at pc 0x7) but loses the frame the signal interrupted and its callers
			// up to runtime.crash or, on some cores, runtime.gopanic; gocrash, as the runtime's own
			// traceback, unwinds the goroutine from the signal's context (raise, dieFromSignal,
			// crash, ...). What Delve has below the crossing, gocrash has too, main.deref included.
			const crossed = d.frames.findIndex((f) => f.function.startsWith("runtime.sigreturn"));
			expect(crossed, what).toBeGreaterThan(0);
			const rest = d.frames.slice(crossed + 1).filter((f, i) => i > 0 || f.function !== "???");
			expect(g.frames.slice(g.frames.length - rest.length).map(location), what).toEqual(rest);
			expect(
				rest.map((f) => f.function),
				what,
			).toContain("main.deref");
			expect(
				g.frames.slice(0, 3).map((f) => f.function),
				what,
			).toEqual(["runtime.raise", "runtime.dieFromSignal", "runtime.crash"]);
			expect(d.location, what).toEqual(same(userLocation(g.frames) as DelveLocation));
		}
	}
	// The go statement (`goroutines -g`): g.gopc, as gocrash's created by, for every goroutine but
	// the main one, whose g.gopc (runtime.newproc's call from rt0_go) the runtime does not print.
	for (const d of delve.goStatements) {
		const c = got.goroutines.find((g) => g.id === d.id)?.createdBy;
		if (d.id === 1) expect(c).toBeNull();
		else
			expect(d.location, `goroutine ${d.id} created by`).toEqual(
				same({
					file: c?.file ?? "",
					line: c?.line ?? 0,
					function: c?.function ?? "",
					pc: c?.pc ?? "",
				}),
			);
	}
}

let dlv = "";
const binaries: Record<string, { amd64: string; arm64: string }> = {};

beforeAll(async () => {
	const tools = execFileSync(`${root}scripts/oracle-tools.sh`, { encoding: "utf8" });
	dlv = /^DLV=(.+)$/m.exec(tools)?.[1] ?? "";
	rmSync(work, { recursive: true, force: true });
	mkdirSync(work, { recursive: true });
	const env = { ...process.env, CORECRASH_OUT: work };
	for (const v of CORE_VERSIONS) {
		const made = async (arch: string) =>
			(
				await run(`${root}scripts/run-corecrash.sh`, [v, arch], { encoding: "utf8", env })
			).stdout.trim();
		binaries[v] = { amd64: await made("amd64"), arm64: await made("arm64") };
	}
}, 900_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.each(CORE_VERSIONS)("go%s", (v) => {
	test.each([
		["amd64 kernel core of the abort", "amd64", "crash"],
		["amd64 gcore of the live program", "amd64", "gcore"],
		["arm64 QEMU core of the abort", "arm64", "crash"],
	] as const)(
		"%s: Delve's goroutines are gocrash's",
		async (_, arch, kind) => {
			const bin = binaries[v]?.[arch] as string;
			const core = `${bin}.${kind}.core`;
			expectSameGoroutines(
				await readCoreJson(bin, core),
				await delveGoroutines(dlv, bin, core, v),
				v,
				kind,
			);
		},
		120_000,
	);
});
