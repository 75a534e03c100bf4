import { Cursor, debugSection, findDebugSection } from "./_dwarf-section.js";
import { hex } from "./_error.js";
import type { Image } from "./_image.js";

/** A struct type of the binary's DWARF: its byte size and the byte offset of each member. */
export interface DwarfStruct {
	readonly name: string;
	readonly size: number | undefined;
	readonly members: ReadonlyMap<string, number>;
}

/** Returns whether the binary has DWARF debugging information (a `.debug_info`, plain or compressed). */
export function hasDwarf(image: Image): boolean {
	return findDebugSection(image, "info") !== undefined;
}

/**
 * Reads the DW_TAG_structure_type DIEs called `names` (e.g. `runtime.g`) from `.debug_info` and
 * the offsets of their DW_TAG_member children, reading the units in order and stopping once every
 * name is found; undefined when the binary has no DWARF. A struct the DWARF lacks is not in the map.
 */
export function readDwarfStructs(
	image: Image,
	names: readonly string[],
): Map<string, DwarfStruct> | undefined {
	if (!hasDwarf(image)) return undefined;
	const info = debugSection(image, "info");
	const abbrev = debugSection(image, "abbrev");
	const wanted = new Set(names);
	const found = new Map<string, DwarfStruct>();
	const tables = new Map<number, Map<number, Abbrev>>();
	let abbrevBytes = 0;
	const c = new Cursor(info, ".debug_info", image);
	while (c.pos < info.size && found.size < wanted.size) {
		const unit = readUnitHeader(c, info.size);
		let abbrevs = tables.get(unit.abbrevOffset);
		if (abbrevs === undefined) {
			const a = new Cursor(abbrev, ".debug_abbrev", image);
			abbrevs = readAbbrevs(a, unit.abbrevOffset);
			tables.set(unit.abbrevOffset, abbrevs);
			// Units whose tables overlap would have the same bytes parsed again and again.
			abbrevBytes += a.pos - unit.abbrevOffset;
			if (abbrevBytes > 2 * abbrev.size + 4096) {
				throw a.error("abbreviation tables that overlap, read", unit.abbrevOffset);
			}
		}
		readStructs(c, unit, abbrevs, wanted, found);
		c.pos = unit.end;
	}
	return found;
}

// DWARF 5, section 7.5: the tags, attributes, forms and opcodes read here.
const tagMember = 0x0d;
const tagStructure = 0x13;
const atName = 0x03;
const atByteSize = 0x0b;
const atDataMemberLocation = 0x38;
const formString = 0x08;
const formIndirect = 0x16;
const formImplicitConst = 0x21;
const opPlusUconst = 0x23;

interface Abbrev {
	readonly tag: number;
	readonly children: boolean;
	/** Attribute, form and (DW_FORM_implicit_const) value, three numbers per attribute. */
	readonly specs: readonly number[];
}

interface Unit {
	readonly end: number;
	readonly version: number;
	readonly abbrevOffset: number;
	readonly addrSize: number;
	readonly offsetSize: 4 | 8;
}

function readUnitHeader(c: Cursor, sectionSize: number): Unit {
	const start = c.pos;
	let length = c.u32();
	let offsetSize: 4 | 8 = 4;
	if (length === 0xffffffff) {
		length = c.u64();
		offsetSize = 8;
	} else if (length >= 0xfffffff0) {
		throw c.error(`unit length ${hex(length)}`, start);
	}
	const end = c.pos + length;
	if (end > sectionSize) throw c.error(`unit of ${hex(length)} bytes`, start);
	const version = c.u16();
	if (version < 2 || version > 5) {
		throw c.error(`unit of DWARF version ${version}`, start, "unsupported");
	}
	if (version === 5) {
		const unitType = c.u8();
		const addrSize = c.u8();
		const abbrevOffset = c.offset(offsetSize);
		// DW_UT_type and DW_UT_split_type carry a signature and a type offset, DW_UT_skeleton and
		// DW_UT_split_compile a DWO id.
		if (unitType === 2 || unitType === 6) c.skip(8 + offsetSize);
		else if (unitType === 4 || unitType === 5) c.skip(8);
		return { end, version, abbrevOffset, addrSize, offsetSize };
	}
	const abbrevOffset = c.offset(offsetSize);
	return { end, version, abbrevOffset, addrSize: c.u8(), offsetSize };
}

function readAbbrevs(c: Cursor, offset: number): Map<number, Abbrev> {
	c.pos = offset;
	const out = new Map<number, Abbrev>();
	for (;;) {
		const code = c.uleb();
		if (code === 0) return out;
		const tag = c.uleb();
		const children = c.u8() !== 0;
		const specs: number[] = [];
		for (;;) {
			const at = c.uleb();
			const form = c.uleb();
			if (at === 0 && form === 0) break;
			specs.push(at, form, form === formImplicitConst ? c.sleb() : 0);
		}
		out.set(code, { tag, children, specs });
	}
}

// Walks the unit's DIEs, collecting the wanted structs (their members are their children).
function readStructs(
	c: Cursor,
	unit: Unit,
	abbrevs: ReadonlyMap<number, Abbrev>,
	wanted: ReadonlySet<string>,
	found: Map<string, DwarfStruct>,
): void {
	let depth = 0;
	let open: { name: string; size: number | undefined; depth: number } | undefined;
	let members = new Map<string, number>();
	while (c.pos < unit.end) {
		const at = c.pos;
		const code = c.uleb();
		if (code === 0) {
			depth--;
			if (open !== undefined && depth === open.depth) {
				found.set(open.name, { name: open.name, size: open.size, members });
				open = undefined;
				if (found.size === wanted.size) return;
			}
			continue;
		}
		const a = abbrevs.get(code);
		if (a === undefined) throw c.error(`DIE with abbreviation ${code}`, at);
		const inStruct = open !== undefined && depth === open.depth + 1 && a.tag === tagMember;
		const isStruct = a.tag === tagStructure && open === undefined;
		let name: string | undefined;
		let size: number | undefined;
		let location: number | undefined;
		for (let i = 0; i < a.specs.length; i += 3) {
			const attr = a.specs[i] as number;
			let form = a.specs[i + 1] as number;
			if (form === formIndirect) form = c.uleb();
			if ((isStruct || inStruct) && attr === atName && form === formString) {
				name = c.cstring();
			} else if (isStruct && attr === atByteSize) {
				size = readConstant(c, unit, form, a.specs[i + 2] as number);
			} else if (inStruct && attr === atDataMemberLocation) {
				location = readConstant(c, unit, form, a.specs[i + 2] as number);
			} else {
				skipForm(c, unit, form);
			}
		}
		if (isStruct && a.children && name !== undefined && wanted.has(name) && !found.has(name)) {
			open = { name, size, depth };
			members = new Map();
		}
		if (inStruct && name !== undefined && location !== undefined && !members.has(name)) {
			members.set(name, location);
		}
		if (a.children) depth++;
	}
}

// A constant (DW_AT_byte_size, DW_AT_data_member_location), or a location expression that is
// one DW_OP_plus_uconst (DWARF 2's way to give a member offset); undefined for other forms.
function readConstant(c: Cursor, unit: Unit, form: number, implicit: number): number | undefined {
	switch (form) {
		case 0x0b:
			return c.u8();
		case 0x05:
			return c.u16();
		case 0x06:
			return c.u32();
		case 0x07:
			return c.u64();
		case 0x0f:
			return c.uleb();
		case 0x0d:
			return c.sleb();
		case formImplicitConst:
			return implicit;
		case 0x0a:
		case 0x18: {
			const length = form === 0x0a ? c.u8() : c.uleb();
			const end = c.pos + length;
			c.check(length);
			let value: number | undefined;
			if (length > 0 && c.bytes[c.pos] === opPlusUconst) {
				c.pos++;
				value = c.uleb();
				if (c.pos !== end) value = undefined;
			}
			c.pos = end;
			return value;
		}
		default:
			skipForm(c, unit, form);
			return undefined;
	}
}

// Steps over one attribute value of `form` (DWARF 5 section 7.5.6, and the GNU forms of DWARF 4).
function skipForm(c: Cursor, unit: Unit, form: number): void {
	switch (form) {
		case 0x19: // flag_present
		case formImplicitConst:
			return;
		case 0x0b: // data1
		case 0x0c: // flag
		case 0x11: // ref1
		case 0x25: // strx1
		case 0x29: // addrx1
			return c.skip(1);
		case 0x05: // data2
		case 0x12: // ref2
		case 0x26: // strx2
		case 0x2a: // addrx2
			return c.skip(2);
		case 0x27: // strx3
		case 0x2b: // addrx3
			return c.skip(3);
		case 0x06: // data4
		case 0x13: // ref4
		case 0x1c: // ref_sup4
		case 0x28: // strx4
		case 0x2c: // addrx4
			return c.skip(4);
		case 0x07: // data8
		case 0x14: // ref8
		case 0x20: // ref_sig8
		case 0x24: // ref_sup8
			return c.skip(8);
		case 0x1e: // data16
			return c.skip(16);
		case 0x01: // addr
			return c.skip(unit.addrSize);
		case 0x10: // ref_addr: an address in DWARF 2, an offset since
			return c.skip(unit.version === 2 ? unit.addrSize : unit.offsetSize);
		case 0x0e: // strp
		case 0x17: // sec_offset
		case 0x1d: // strp_sup
		case 0x1f: // line_strp
		case 0x1f20: // GNU_ref_alt
		case 0x1f21: // GNU_strp_alt
			return c.skip(unit.offsetSize);
		case 0x0d: // sdata
		case 0x0f: // udata
		case 0x15: // ref_udata
		case 0x1a: // strx
		case 0x1b: // addrx
		case 0x22: // loclistx
		case 0x23: // rnglistx
		case 0x1f01: // GNU_addr_index
		case 0x1f02: // GNU_str_index
			c.skipLeb();
			return;
		case 0x08: // string
			c.skipCstring();
			return;
		case 0x0a: // block1
			return c.skip(c.u8());
		case 0x03: // block2
			return c.skip(c.u16());
		case 0x04: // block4
			return c.skip(c.u32());
		case 0x09: // block
		case 0x18: // exprloc
			return c.skip(c.uleb());
		case formIndirect:
			return skipForm(c, unit, c.uleb());
		default:
			throw c.error(`attribute form ${hex(form)}`, c.pos, "unsupported");
	}
}
