import type { Image } from "../binary/index.js";
import type { CoreFile, CoreLoad, FileMapping } from "./_core-file.js";
import { CoreError, hex } from "./_error.js";

const pageSize = 4096;
const maxCachedPages = 4096;

/**
 * The process's memory at the moment of the core: the core's own segments, and for the parts the
 * kernel left out (file-backed text and read-only data) the executable's bytes at the place
 * NT_FILE says it was mapped. Core pages are read on demand and a few thousand are kept.
 */
export class Memory {
	readonly #core: CoreFile;
	readonly #image: Image;
	readonly #bias: number;
	readonly #exeMappings: readonly FileMapping[];
	readonly #pages = new Map<number, { readonly load: CoreLoad; readonly bytes: Uint8Array }>();

	/**
	 * `bias` is the executable's load address minus its link address; `exeMappings` the NT_FILE
	 * mappings of the executable (empty when the core has no NT_FILE).
	 */
	constructor(core: CoreFile, image: Image, bias: number, exeMappings: readonly FileMapping[]) {
		this.#core = core;
		this.#image = image;
		this.#bias = bias;
		this.#exeMappings = exeMappings;
	}

	/** Reads `length` bytes at address `addr`, or fails naming `what`. */
	read(addr: number, length: number, what: string): Uint8Array {
		if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(addr + length)) {
			throw new CoreError("unmapped", `Cannot read ${what}: bad address ${addr}`, 0);
		}
		const load = this.#load(addr);
		if (load !== undefined && addr + length <= load.vaddr + load.fileSize) {
			return this.#fromCore(load, addr, length, what);
		}
		const m = this.#exeMappings.find((x) => addr >= x.start && addr + length <= x.end);
		if (m !== undefined) {
			return this.#image.reader.slice(m.offset + (addr - m.start), length, what);
		}
		if (this.#exeMappings.length === 0) {
			const linked = addr - this.#bias;
			for (const s of this.#image.segments) {
				if (linked >= s.addr && linked + length <= s.addr + s.fileSize) {
					return this.#image.reader.slice(s.offset + (linked - s.addr), length, what);
				}
			}
		}
		const why =
			load === undefined
				? "is not in any segment of the core"
				: "is in a segment the core left out, and not in a mapping of the executable";
		throw new CoreError("unmapped", `Cannot read ${what}: address ${hex(addr)} ${why}`, addr);
	}

	/** Reads a little-endian 64-bit word; values past 2^53 are refused (no valid address is). */
	word(addr: number, what: string): number {
		const b = this.read(addr, 8, what);
		const v = new DataView(b.buffer, b.byteOffset, 8);
		const hi = v.getUint32(4, true);
		if (hi > 0x1fffff) {
			throw new CoreError(
				"malformed",
				`Cannot read ${what}: the word at ${hex(addr)}, ${hex(v.getBigUint64(0, true))}, exceeds 2^53`,
				addr,
			);
		}
		return hi * 0x100000000 + v.getUint32(0, true);
	}

	/** Reads a little-endian 32-bit word. */
	u32(addr: number, what: string): number {
		const b = this.read(addr, 4, what);
		return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
	}

	/** Reads one byte. */
	u8(addr: number, what: string): number {
		return this.read(addr, 1, what)[0] as number;
	}

	#load(addr: number): CoreLoad | undefined {
		const loads = this.#core.loads;
		let lo = 0;
		let hi = loads.length - 1;
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			const l = loads[mid] as CoreLoad;
			if (addr < l.vaddr) hi = mid - 1;
			else if (addr >= l.vaddr + l.memSize) lo = mid + 1;
			else return l;
		}
		return undefined;
	}

	#fromCore(load: CoreLoad, addr: number, length: number, what: string): Uint8Array {
		const out = new Uint8Array(length);
		let done = 0;
		while (done < length) {
			const at = addr + done;
			const page = Math.floor(at / pageSize);
			const bytes = this.#page(load, page, what);
			const from = at - page * pageSize;
			const n = Math.min(length - done, bytes.length - from);
			if (n <= 0) {
				throw new CoreError(
					"truncated",
					`Cannot read ${what} at ${hex(at)}: the core file ends before it`,
					at,
				);
			}
			out.set(bytes.subarray(from, from + n), done);
			done += n;
		}
		return out;
	}

	// One page of a segment (clipped to the segment's file bytes), read from the core file.
	#page(load: CoreLoad, page: number, what: string): Uint8Array {
		// Two segments that do not start on a page boundary can share a page: the cached one must
		// be of this segment.
		const cached = this.#pages.get(page);
		if (cached?.load === load) return cached.bytes;
		const start = Math.max(page * pageSize, load.vaddr);
		const end = Math.min((page + 1) * pageSize, load.vaddr + load.fileSize);
		const offset = load.offset + (start - load.vaddr);
		const size = this.#core.source.size;
		if (offset + (end - start) > size) {
			throw new CoreError(
				"truncated",
				`Cannot read ${what}: the core file ends at ${hex(size)}, before the page at ${hex(offset)} that holds it (a truncated core: was a core size limit such as ulimit -c reached?)`,
				offset,
			);
		}
		// Keep the page aligned: bytes before the segment start are left zero and never returned.
		const bytes = new Uint8Array(end - page * pageSize);
		this.#core.source.read(bytes.subarray(start - page * pageSize), offset);
		if (this.#pages.size >= maxCachedPages) this.#pages.clear();
		this.#pages.set(page, { load, bytes });
		return bytes;
	}
}
