import type { Environment, Fact } from "../knowledge/index.js";
import type { ParseResult } from "../traceback/index.js";

/** What the user said about the environment on the command line. */
export interface EnvironmentOverrides {
	readonly goVersion?: string | undefined;
	readonly goarch?: string | undefined;
	readonly goos?: string | undefined;
	readonly kernel?: string | undefined;
}

/** A Go module seen in the crash's file paths (module cache), with its version. */
export interface SeenModule {
	readonly path: string;
	readonly version: string;
}

/** The environment with where each fact came from, and the modules seen in the text. */
export interface InferredEnvironment extends Environment {
	readonly modules: readonly SeenModule[];
}

/** Facts read from a binary's buildinfo. */
export interface BinaryEnvironment {
	readonly name: string;
	readonly goVersion: string;
	readonly goarch: string;
	readonly goos: string;
}

const ARCHES =
	"amd64|arm64|386|arm|ppc64le|ppc64|s390x|riscv64|mips64le|mips64|mipsle|mips|loong64|wasm";
// Runtime files named after their architecture: asm_arm64.s, preempt_arm64.s, sys_linux_amd64.s, signal_arm64.go.
const ARCH_FILE = new RegExp(`_(${ARCHES})\\.(?:s|go)$`);
const OS_FILE =
	/(?:^|[/_])(linux|darwin|windows|freebsd|netbsd|openbsd|dragonfly|solaris|illumos|aix|android|ios|plan9|js|wasip1)(?:_[a-z0-9]+)?\.(?:s|go)$/;

// GOROOT locations that carry the version: Debian/Ubuntu, go.dev/dl SDKs, the toolchain module
// (GOTOOLCHAIN), GitHub's hosted tool cache, Homebrew.
const GOROOT_PATTERNS: readonly RegExp[] = [
	/\/usr\/lib\/go-(1\.\d{1,2})\/src\//,
	/(?:^|\/)go(1\.\d{1,2}(?:\.\d{1,2}|rc\d|beta\d)?)\/(?:go\/)?src\//,
	// openSUSE's packages: /usr/lib64/go/1.8/src/.
	/\/usr\/lib(?:64)?\/go\/(1\.\d{1,2}(?:\.\d{1,2})?)\/src\//,
	/golang\.org\/toolchain@v0\.0\.1-go(1\.\d{1,2}(?:\.\d{1,2})?)\.[a-z0-9]+-[a-z0-9]+\/src\//,
	/\/hostedtoolcache\/go\/(1\.\d{1,2}\.\d{1,2})\//,
	/\/Cellar\/go(?:@1\.\d{1,2})?\/(1\.\d{1,2}(?:\.\d{1,2})?)\//,
];

const MODULE_PATH = /\/pkg\/mod\/([^@\s]{1,300})@(v[^/\s]{1,100})\//;
const KERNEL =
	/\b(?:Linux version|Linux [\w.-]{1,64}|[Kk]ernel(?: version)?:?) (\d{1,2}\.\d{1,3}(?:\.\d{1,4})?(?:[-+~][\w.+~-]{0,64})?)/;

/** Decodes a module-cache path: `!` escapes an upper-case letter (`!data!dog` → `DataDog`). */
export function decodeModulePath(escaped: string): string {
	return escaped.replace(/!([a-z])/g, (_, c: string) => c.toUpperCase());
}

function allFiles(result: ParseResult): string[] {
	const files = new Set<string>();
	const add = (file: string | null): void => {
		if (file !== null) files.add(file);
	};
	for (const c of result.crashes) {
		for (const f of c.runtimeStack) add(f.file);
		for (const g of c.goroutines) {
			for (const f of g.frames) add(f.file);
			if (g.createdBy !== null) add(g.createdBy.frame.file);
		}
	}
	for (const r of result.races) {
		for (const a of r.accesses) for (const f of a.frames) add(f.file);
		for (const g of r.goroutines) for (const f of g.frames) add(f.file);
	}
	return [...files];
}

function archFromRegisters(result: ParseResult): string | undefined {
	for (const c of result.crashes) {
		const names = new Set(Object.keys(c.registers));
		if (names.size === 0) continue;
		if (names.has("rip") || names.has("rax")) return "amd64";
		if (names.has("eip") || names.has("eax")) return "386";
		if (names.has("r29") && names.has("lr")) return "arm64";
		if (names.has("cpsr")) return "arm";
		if (names.has("ctr") && names.has("link")) return "ppc64le";
		if (names.has("ra") && names.has("s0")) return "riscv64";
	}
	return undefined;
}

// runtime/malloc.go (mallocinit) reserves the heap from 0x4000000000 on arm64 (iOS aside) and from
// 0xc000000000 on every other 64-bit platform, and on arm64 too in a -race build; goroutine
// stacks, g and m structs and pointer arguments are in it. Ten digits: the first arena of each;
// when that is taken, the next hints are 1<<40 apart (darwin/arm64's heap is at 0x14000000000).
// From Go 1.26 the base is random (GOEXPERIMENT randomizedheapbase64) but in -race builds.
const HEAP_POINTER = /\b0x[1-7]?(40|c0)[0-9a-f]{8}\b/g;
/** Fewest distinct heap pointers of one kind, and none of the other, that say where the heap is. */
const HEAP_POINTERS = 2;
/** The fault address darwin/amd64's runtime substitutes for a malformed one. */
const DARWIN_AMD64_FAULT_ADDR = "0xb01dfacedebac1e";
/** GOARCH values whose addresses are 32 bits wide. */
const THIRTY_TWO_BIT = ["386", "arm", "mips", "mipsle"];
/** The first Go release whose heap is at a random address but in -race builds. */
const RANDOM_HEAP_FROM = 26;

type HeapArch =
	| { readonly goarch: Fact; readonly excluded: null }
	| {
			readonly goarch: null;
			readonly excluded: { readonly values: readonly string[]; readonly source: string };
	  };

// Where the goroutines' addresses (gp=, mp=, fp=, sp= and arguments) say the heap is, when they
// agree: at 0x40… the program ran on arm64; at 0xc0… it did not, unless it was built with -race,
// which a race report in the text or a Go release with a random heap base says it may have been.
function archFromHeap(result: ParseResult, goVersion: Fact | null): HeapArch | null {
	const minor = Number(/^1\.(\d+)/.exec(goVersion?.value ?? "")?.[1] ?? 0);
	const randomBase = minor >= RANDOM_HEAP_FROM;
	const arm = new Set<string>();
	const other = new Set<string>();
	const look = (text: string | null): void => {
		if (text === null) return;
		for (const m of text.matchAll(HEAP_POINTER)) (m[1] === "40" ? arm : other).add(m[0]);
	};
	for (const g of result.crashes.flatMap((c) => c.goroutines)) {
		look(g.gp);
		look(g.mp);
		for (const f of g.frames) {
			look(f.args);
			look(f.sp);
			look(f.fp);
		}
		if (arm.size > 0 && other.size > 0) return null;
	}
	const [first] = arm.size > 0 ? arm : other;
	if (arm.size >= HEAP_POINTERS && !randomBase) {
		const source = `goroutine addresses such as ${first}: Go's heap starts at 0x4000000000 only on arm64`;
		return { goarch: fact("arm64", source), excluded: null };
	}
	if (other.size < HEAP_POINTERS) return null;
	const raceBuild =
		result.races.length > 0
			? "the text has a race report, and a -race build puts the heap there on arm64 too"
			: randomBase
				? `go${goVersion?.value} puts the heap there only in a -race build, on arm64 too`
				: null;
	if (raceBuild !== null) {
		const source = `goroutine addresses such as ${first}: 64-bit ones (${raceBuild})`;
		return { goarch: null, excluded: { values: THIRTY_TWO_BIT, source } };
	}
	const source = `goroutine addresses such as ${first}: Go's heap is at 0xc000000000 on 64-bit platforms other than arm64, and on arm64 only in a -race build`;
	return { goarch: null, excluded: { values: ["arm64", ...THIRTY_TWO_BIT], source } };
}

function fact(value: string, source: string): Fact {
	return { value, source };
}

/**
 * Works out Go version, GOARCH, GOOS and kernel: from the command line first, then the binary's
 * buildinfo, then the crash text itself (GOROOT paths, runtime file names, register names, and
 * where its addresses say the heap is, which may only rule some GOARCH values out).
 */
export function inferEnvironment(
	result: ParseResult,
	notes: readonly string[],
	overrides: EnvironmentOverrides = {},
	binary?: BinaryEnvironment,
): InferredEnvironment {
	const files = allFiles(result);
	let goVersion: Fact | null = null;
	let goarch: Fact | null = null;
	let goos: Fact | null = null;
	let kernel: Fact | null = null;
	if (overrides.goVersion !== undefined)
		goVersion = fact(overrides.goVersion.replace(/^go/, ""), "--go-version");
	if (overrides.goarch !== undefined) goarch = fact(overrides.goarch, "--goarch");
	if (overrides.goos !== undefined) goos = fact(overrides.goos, "--goos");
	if (overrides.kernel !== undefined) kernel = fact(overrides.kernel, "--kernel");
	if (binary !== undefined) {
		const where = `buildinfo of ${binary.name}`;
		if (goVersion === null && binary.goVersion !== "")
			goVersion = fact(
				binary.goVersion.replace(/^go/, "").split(" ")[0] ?? binary.goVersion,
				where,
			);
		goarch ??= fact(binary.goarch, where);
		goos ??= fact(binary.goos, where);
	}
	for (const file of files) {
		if (goVersion === null) {
			for (const re of GOROOT_PATTERNS) {
				const m = re.exec(file);
				if (m?.[1] !== undefined) {
					goVersion = fact(m[1], `GOROOT path ${file}`);
					break;
				}
			}
		}
		if (goarch === null) {
			const m = ARCH_FILE.exec(file);
			if (m?.[1] !== undefined) goarch = fact(m[1], `runtime file ${file}`);
		}
		if (goos === null) {
			const m = OS_FILE.exec(file);
			if (m?.[1] !== undefined) goos = fact(m[1], `runtime file ${file}`);
		}
	}
	// Only Windows gives an exception code for the signal (`[signal 0xc0000005 …]`).
	const exception = result.crashes.find((c) => /^(?:EXCEPTION_|0xc0)/.test(c.signal?.name ?? ""));
	if (goos === null && exception !== undefined)
		goos = fact("windows", `Windows exception ${exception.signal?.name} in the signal line`);
	// runtime/signal_darwin_amd64.go puts this address in a SIGSEGV that macOS delivered as sent by
	// a user (it does so for a malformed, non-canonical address); no other port uses it.
	const darwin = result.crashes.find((c) => c.signal?.addr === DARWIN_AMD64_FAULT_ADDR);
	if (darwin !== undefined) {
		const source = `fault address ${DARWIN_AMD64_FAULT_ADDR}, which only darwin/amd64's runtime reports`;
		goos ??= fact("darwin", source);
		goarch ??= fact("amd64", source);
	}
	if (goarch === null) {
		const arch = archFromRegisters(result);
		if (arch !== undefined) goarch = fact(arch, "register dump names");
	}
	const heap = goarch === null ? archFromHeap(result, goVersion) : null;
	if (heap !== null) goarch = heap.goarch;
	if (kernel === null) {
		for (const note of notes) {
			const m = KERNEL.exec(note);
			if (m?.[1] !== undefined) {
				kernel = fact(m[1], `line "${note.slice(0, 120)}"`);
				break;
			}
		}
	}
	// Only Linux reports the kernel versions gocrash reads.
	if (goos === null && kernel !== null)
		goos = fact("linux", `Linux kernel ${kernel.value} (${kernel.source})`);
	const modules = new Map<string, SeenModule>();
	for (const file of files) {
		const m = MODULE_PATH.exec(file);
		if (m?.[1] === undefined || m[2] === undefined) continue;
		const path = decodeModulePath(m[1]);
		modules.set(`${path}@${m[2]}`, { path, version: decodeModulePath(m[2]) });
	}
	const goarchExcluded = heap?.excluded ?? null;
	return { goVersion, goarch, goarchExcluded, goos, kernel, modules: [...modules.values()] };
}
