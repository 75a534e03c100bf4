import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

// test/goclient, the program that uses the Go client, and the Debian toolchains that build it.
const root = join(import.meta.dirname, "..");
const PROGRAM = join(import.meta.dirname, "goclient");
const GO_ENV = {
	GOTOOLCHAIN: "local",
	GOFLAGS: "-mod=mod",
	GOPROXY: "off",
	GOCACHE: join(root, ".cache/go-build"),
	CGO_ENABLED: "0",
};

/** The `go` command of a Debian toolchain, or null (with the reason) when it cannot be fetched. */
export function toolchain(version: string): { go: string | null; why: string } {
	try {
		const go = execFileSync(join(root, "scripts/go-toolchain.sh"), [version], {
			encoding: "utf8",
			stdio: ["ignore", "pipe", "pipe"],
		}).trim();
		return { go, why: "" };
	} catch (error) {
		return { go: null, why: String((error as Error).message).slice(0, 300) };
	}
}

/** Builds test/goclient with `go` for linux/`goarch` into `out`. */
export async function buildGoClient(
	go: string,
	goarch: "amd64" | "arm64",
	out: string,
): Promise<void> {
	await promisify(execFile)(go, ["build", "-o", out, "."], {
		cwd: PROGRAM,
		env: { ...process.env, ...GO_ENV, GOARCH: goarch },
	});
}
