import type { GoBinary } from "../binary/index.js";
import { atEntry, type CoreFile, elfNotes, heldBytes } from "./_core-file.js";
import { CoreError } from "./_error.js";

/** The build ids an ELF executable's notes carry, each undefined when it has none. */
export interface BuildIds {
	/** NT_GNU_BUILD_ID, in hex (the Go linker writes one since Go 1.24). */
	readonly gnu: string | undefined;
	/** Go's own build id (`go tool buildid`), from the "Go" note of .note.go.buildid. */
	readonly go: string | undefined;
}

const ptNote = 4;
const ntGnuBuildId = 3;
// cmd/link/internal/ld/elf.go: ELF_NOTE_GOBUILDID_TAG.
const ntGoBuildId = 4;
// The kernel dumps the first page of each mapped ELF file; 64 KiB covers arm64's largest pages.
const headerBytes = 64 << 10;
const maxNote = 1024;

/** Where notes are in an ELF file: offset and size. */
type NoteRange = { readonly offset: number; readonly size: number };

/**
 * Reads the build ids from the notes of an ELF executable whose first bytes are `head`: those of
 * its PT_NOTE segments and of `sections`, as far as `head` holds them. Go's linker leaves
 * .note.gnu.build-id out of its PT_NOTE segment, so the binary's note sections are looked at too.
 * Bytes that do not parse, as a mutated copy in a core, give no ids.
 */
export function readBuildIds(head: Uint8Array, sections: readonly NoteRange[]): BuildIds {
	const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
	const ranges = [...noteSegments(v), ...sections];
	let gnu: string | undefined;
	let go: string | undefined;
	for (const { offset, size } of ranges) {
		if (offset + size > v.byteLength) continue;
		try {
			for (const n of elfNotes(new DataView(head.buffer, head.byteOffset + offset, size), offset)) {
				if (n.desc.byteLength > maxNote) continue;
				const bytes = new Uint8Array(n.desc.buffer, n.desc.byteOffset, n.desc.byteLength);
				if (n.name === "GNU" && n.type === ntGnuBuildId) {
					gnu = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
				} else if (n.name === "Go" && n.type === ntGoBuildId) {
					go = new TextDecoder().decode(bytes);
				}
			}
		} catch (error) {
			if (!(error instanceof CoreError)) throw error;
		}
	}
	return { gnu, go };
}

// The PT_NOTE program headers of a 64-bit ELF header; none when it does not parse.
function noteSegments(v: DataView): NoteRange[] {
	if (v.byteLength < 64 || v.getUint32(0, false) !== 0x7f454c46 || v.getUint8(4) !== 2) return [];
	const phoff = Number(v.getBigUint64(32, true));
	const phentsize = v.getUint16(54, true);
	const phnum = v.getUint16(56, true);
	if (phentsize < 56 || phoff + phnum * phentsize > v.byteLength) return [];
	const out: NoteRange[] = [];
	for (let i = 0; i < phnum; i++) {
		const at = phoff + i * phentsize;
		if (v.getUint32(at, true) !== ptNote) continue;
		out.push({
			offset: Number(v.getBigUint64(at + 8, true)),
			size: Number(v.getBigUint64(at + 32, true)),
		});
	}
	return out;
}

/**
 * Where the core holds the executable's first page (the NT_FILE mapping at offset 0 of the file
 * mapped at AT_ENTRY, as the kernel and gdb write it), the build ids in it and the file's path;
 * undefined when the core has no such copy (QEMU's cores have no NT_FILE).
 */
export function coreBuildIds(
	core: CoreFile,
	sections: readonly NoteRange[],
): (BuildIds & { path: string }) | undefined {
	const entry = core.auxv.get(atEntry);
	if (entry === undefined) return undefined;
	const exe = core.files.find((m) => entry >= m.start && entry < m.end);
	const first = core.files.find((m) => m.path === exe?.path && m.offset === 0);
	if (exe === undefined || first === undefined) return undefined;
	const held = heldBytes(core, first.start);
	if (held === undefined) return undefined;
	// A damaged NT_FILE may end a mapping before its start.
	const head = new Uint8Array(
		Math.max(0, Math.min(held.length, headerBytes, first.end - first.start)),
	);
	core.source.read(head, held.offset);
	return { ...readBuildIds(head, sections), path: exe.path };
}

/**
 * Fails when the core's copy of its executable's notes carries a build id and the binary's
 * differs: the core was written by another build.
 */
export function checkBuildId(bin: GoBinary, core: CoreFile): void {
	const sections = bin.image.sections
		.filter((s) => s.name.startsWith(".note") && s.fileSize > 0)
		.map((s) => ({ offset: s.offset, size: s.fileSize }));
	const theirs = coreBuildIds(core, sections);
	if (theirs === undefined) return;
	const r = bin.image.reader;
	const head = r.slice(0, Math.min(r.size, headerBytes), "the binary's ELF header");
	const ours = readBuildIds(head, sections);
	for (const kind of ["gnu", "go"] as const) {
		const a = theirs[kind];
		const b = ours[kind];
		if (a === undefined || b === undefined || a === b) continue;
		const name = kind === "gnu" ? "GNU build id" : "Go build id";
		throw new CoreError(
			"mismatch",
			`Not the binary that made this core: the core's executable ${theirs.path} has ${name} ${a}, the binary ${b}; pass the executable that wrote this core`,
			0,
		);
	}
}
