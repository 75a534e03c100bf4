import { latin1OrUtf8 } from "./_bytes.js";
import { BinaryError, hex } from "./_error.js";
import { findSection, type Image, readAddr } from "./_image.js";

/** A module in buildinfo: main module, dependency or replacement. */
export interface Module {
	readonly path: string;
	readonly version: string;
	readonly sum: string;
	readonly replace?: Module;
}

/** One `build` setting, e.g. `GOARCH=arm64` or `-ldflags=-s -w`. */
export interface BuildSetting {
	readonly key: string;
	readonly value: string;
}

/** The buildinfo embedded by the Go linker (debug/buildinfo). */
export interface BuildInfo {
	readonly goVersion: string;
	/** Path of the main package, empty when not built in module mode. */
	readonly path: string;
	readonly main?: Module;
	readonly deps: readonly Module[];
	readonly settings: readonly BuildSetting[];
}

const magic = [0xff, 0x20, 0x47, 0x6f, 0x20, 0x62, 0x75, 0x69, 0x6c, 0x64, 0x69, 0x6e, 0x66, 0x3a];

/** Finds and decodes buildinfo; returns undefined when the binary has none. */
export function readBuildInfo(image: Image): BuildInfo | undefined {
	const r = image.reader;
	const b = r.bytes;
	for (const region of dataRegions(image)) {
		const end = region.offset + region.size;
		r.load(region.offset, region.size);
		for (let at = region.offset; at + 32 <= end; at++) {
			at = b.indexOf(0xff, at);
			if (at < 0 || at + 32 > end) break;
			if ((region.addr + (at - region.offset)) % 16 !== 0) continue;
			let ok = true;
			for (let k = 1; k < magic.length && ok; k++) ok = b[at + k] === magic[k];
			if (ok) return decodeHeader(image, at, end);
		}
	}
	return undefined;
}

// The named section, else the writable data (debug/buildinfo takes only the first writable
// segment, which in a PIE binary without section headers is the RELRO one, before .go.buildinfo).
function dataRegions(image: Image): { offset: number; size: number; addr: number }[] {
	const sec = findSection(image, ".go.buildinfo", "__go_buildinfo");
	if (sec !== undefined && sec.fileSize > 0) {
		return [{ offset: sec.offset, size: sec.fileSize, addr: sec.addr }];
	}
	const writable = (s: { write: boolean; exec: boolean; addr: number; fileSize: number }) =>
		s.write && !s.exec && s.addr !== 0 && s.fileSize > 0;
	const list =
		image.format === "pe" ? image.sections.filter(writable) : image.segments.filter(writable);
	return list.map((s) => ({ offset: s.offset, size: s.fileSize, addr: s.addr }));
}

function decodeHeader(image: Image, at: number, end: number): BuildInfo {
	const r = image.reader;
	const ptrSize = r.u8(at + 14, "buildinfo header");
	const flags = r.u8(at + 15, "buildinfo header");
	let version: string;
	let modinfo: Uint8Array;
	if (flags & 2) {
		let p = at + 32;
		const read = (what: string): Uint8Array => {
			const [len, n] = uvarint(r.bytes, p, end, what, image);
			p += n;
			if (p + len > end) {
				throw new BinaryError(
					"truncated",
					`Cannot read ${what}: length ${len} at offset ${hex(p)} runs past the buildinfo data`,
					p,
					image.format,
				);
			}
			const s = r.bytes.subarray(p, p + len);
			p += len;
			return s;
		};
		version = latin1OrUtf8(read("buildinfo version"));
		modinfo = read("buildinfo modinfo");
	} else {
		if (ptrSize !== 4 && ptrSize !== 8) throw r.error(`buildinfo pointer size ${ptrSize}`, at + 14);
		const saved = r.littleEndian;
		r.littleEndian = (flags & 1) === 0;
		try {
			const versPtr = r.word(at + 16, ptrSize, "buildinfo version pointer");
			const modPtr = r.word(at + 16 + ptrSize, ptrSize, "buildinfo modinfo pointer");
			version = latin1OrUtf8(readGoString(image, versPtr, ptrSize, "buildinfo version"));
			modinfo = readGoString(image, modPtr, ptrSize, "buildinfo modinfo");
		} finally {
			r.littleEndian = saved;
		}
	}
	return parseModinfo(version, modinfo);
}

function readGoString(image: Image, addr: number, ptrSize: 4 | 8, what: string): Uint8Array {
	const header = readAddr(image, addr, 2 * ptrSize, `${what} string header`);
	const v = new DataView(header.buffer, header.byteOffset, header.byteLength);
	const le = image.reader.littleEndian;
	const word = (o: number): number =>
		ptrSize === 4
			? v.getUint32(o, le)
			: v.getUint32(o + (le ? 4 : 0), le) * 0x100000000 + v.getUint32(o + (le ? 0 : 4), le);
	const len = word(ptrSize);
	if (len > image.reader.size) throw image.reader.error(`${what} (length ${len})`, 0);
	return len === 0 ? new Uint8Array(0) : readAddr(image, word(0), len, what);
}

function uvarint(
	b: Uint8Array,
	at: number,
	end: number,
	what: string,
	image: Image,
): [number, number] {
	let v = 0;
	for (let i = 0; i < 5; i++) {
		if (at + i >= end) break;
		const c = b[at + i] as number;
		v += (c & 0x7f) * 2 ** (7 * i);
		if ((c & 0x80) === 0) return [v, i + 1];
	}
	throw new BinaryError(
		"malformed",
		`Cannot read ${what} length at offset ${hex(at)}`,
		at,
		image.format,
	);
}

/** Parses the modinfo text (runtime/debug ParseBuildInfo), after stripping its 16-byte sentinels. */
export function parseModinfo(goVersion: string, raw: Uint8Array): BuildInfo {
	// cmd/go frames modinfo with 16 bytes on each side; debug/buildinfo strips them only when the
	// byte before the end sentinel is a newline.
	const text =
		raw.length >= 33 && raw[raw.length - 17] === 0x0a
			? latin1OrUtf8(raw.subarray(16, raw.length - 16))
			: "";
	let path = "";
	let main: Module | undefined;
	const deps: Module[] = [];
	const settings: BuildSetting[] = [];
	let last: { list: "main" | "deps"; index: number } | undefined;
	for (const line of text.split("\n")) {
		const cols = line.split("\t");
		const kind = cols[0];
		if (kind === "path") path = cols[1] ?? "";
		else if (kind === "mod" || kind === "dep") {
			const m: Module = { path: cols[1] ?? "", version: cols[2] ?? "", sum: cols[3] ?? "" };
			if (kind === "mod") {
				main = m;
				last = { list: "main", index: 0 };
			} else {
				deps.push(m);
				last = { list: "deps", index: deps.length - 1 };
			}
		} else if (kind === "=>" && last !== undefined) {
			const replace: Module = { path: cols[1] ?? "", version: cols[2] ?? "", sum: cols[3] ?? "" };
			if (last.list === "main" && main !== undefined) main = { ...main, replace };
			else {
				const d = deps[last.index];
				if (d !== undefined) deps[last.index] = { ...d, replace };
			}
			last = undefined;
		} else if (kind === "build") {
			const setting = parseSetting(line.slice(6));
			if (setting !== undefined) settings.push(setting);
		}
	}
	return main === undefined
		? { goVersion, path, deps, settings }
		: { goVersion, path, main, deps, settings };
}

function parseSetting(s: string): BuildSetting | undefined {
	let key: string;
	let rest: string;
	if (s.startsWith('"')) {
		const k = unquotePrefix(s);
		if (k === undefined || s[k.length] !== "=") return undefined;
		key = k.value;
		rest = s.slice(k.length + 1);
	} else {
		const eq = s.indexOf("=");
		if (eq < 0) return undefined;
		key = s.slice(0, eq);
		rest = s.slice(eq + 1);
	}
	if (rest.startsWith('"')) {
		const v = unquotePrefix(rest);
		return v === undefined ? undefined : { key, value: v.value };
	}
	return { key, value: rest };
}

const escapes: Readonly<Record<string, string>> = {
	a: "\x07",
	b: "\b",
	f: "\f",
	n: "\n",
	r: "\r",
	t: "\t",
	v: "\v",
	"\\": "\\",
	'"': '"',
	"'": "'",
};

// Reads a Go double-quoted string literal (strconv.Quote output) at the start of `s`.
function unquotePrefix(s: string): { value: string; length: number } | undefined {
	let out = "";
	let i = 1;
	while (i < s.length) {
		const c = s[i] as string;
		if (c === '"') return { value: out, length: i + 1 };
		if (c !== "\\") {
			out += c;
			i++;
			continue;
		}
		const e = s[i + 1] ?? "";
		const simple = escapes[e];
		if (simple !== undefined) {
			out += simple;
			i += 2;
		} else if (e === "x" || e === "u" || e === "U") {
			const n = e === "x" ? 2 : e === "u" ? 4 : 8;
			const code = Number.parseInt(s.slice(i + 2, i + 2 + n), 16);
			if (!Number.isFinite(code)) return undefined;
			out += String.fromCodePoint(code);
			i += 2 + n;
		} else return undefined;
	}
	return undefined;
}

/** Formats buildinfo like `go version -m` prints it (without the leading file name line). */
export function formatBuildInfo(info: BuildInfo): string {
	const lines: string[] = [];
	const mod = (kind: string, m: Module): void => {
		// runtime/debug BuildInfo.String omits the sum of a replaced module and, by a quirk of its
		// recursive formatMod, follows the replacement with an empty line.
		if (m.replace === undefined) lines.push(`\t${kind}\t${m.path}\t${m.version}\t${m.sum}`);
		else {
			lines.push(`\t${kind}\t${m.path}\t${m.version}`);
			lines.push(`\t=>\t${m.replace.path}\t${m.replace.version}\t${m.replace.sum}`, "\t");
		}
	};
	if (info.path !== "") lines.push(`\tpath\t${info.path}`);
	if (info.main !== undefined) mod("mod", info.main);
	for (const d of info.deps) mod("dep", d);
	for (const s of info.settings) lines.push(`\tbuild\t${formatSetting(s)}`);
	return lines.join("\n");
}

function formatSetting(s: BuildSetting): string {
	const key = /[ \t\r\n"`=]/.test(s.key) ? JSON.stringify(s.key) : s.key;
	const value = /[ \t\r\n"`]/.test(s.value) ? JSON.stringify(s.value) : s.value;
	return `${key}=${value}`;
}
