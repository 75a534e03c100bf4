import { readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import type { FileSource } from "../../src/binary/index.js";

/** Directory of the committed fixture binaries (built by scripts/build-binaries.sh). */
export const BINARY_FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

/** What the build matrix says about one fixture, parsed from its name. */
export interface BinaryFixture {
	readonly name: string;
	readonly program: "frames" | "netlink";
	readonly toolchain: string;
	readonly goos: string;
	readonly goarch: string;
	readonly variant: "" | "pie" | "stripped" | "cgo";
}

/** Lists every fixture binary with the facts its name encodes. */
export function binaryFixtures(): BinaryFixture[] {
	return readdirSync(BINARY_FIXTURES)
		.filter((f) => f.endsWith(".gz"))
		.sort()
		.map((file) => {
			const name = file.slice(0, -3);
			const m = /^(frames|netlink)-go(1\.\d+)-(\w+)-(\w+)(?:-(pie|stripped|cgo))?$/.exec(name);
			if (m === null) throw new Error(`unexpected fixture name ${file}`);
			return {
				name,
				program: m[1] as "frames" | "netlink",
				toolchain: m[2] as string,
				goos: m[3] as string,
				goarch: m[4] as string,
				variant: (m[5] ?? "") as BinaryFixture["variant"],
			};
		});
}

const cache = new Map<string, Uint8Array>();

/** Returns the uncompressed bytes of a fixture binary. */
export function fixtureBytes(name: string): Uint8Array {
	let bytes = cache.get(name);
	if (bytes === undefined) {
		// A plain Uint8Array, so that `.slice()` copies (Buffer's `.slice()` shares memory).
		bytes = new Uint8Array(gunzipSync(readFileSync(`${BINARY_FIXTURES}${name}.gz`)));
		cache.set(name, bytes);
	}
	return bytes;
}

/** A file source over `bytes`, as the CLI reads a file on demand, counting the bytes it reads. */
export function fileSource(bytes: Uint8Array): FileSource & { readonly bytesRead: number } {
	let bytesRead = 0;
	return {
		size: bytes.length,
		read(into, offset) {
			into.set(bytes.subarray(offset, offset + into.length));
			bytesRead += into.length;
		},
		get bytesRead() {
			return bytesRead;
		},
	};
}
