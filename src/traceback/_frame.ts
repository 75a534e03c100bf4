import type { Frame } from "./_model.js";

/** Builds a frame from a function line's name and argument text; the file part is filled later. */
export function newFrame(name: string, args: string | null): Frame {
	return new NamedFrame(name, args);
}

// Most frames of a large dump are only compared and counted, never shown, so a frame reads its
// package and receiver from its name when first asked for them (as getters; toJSON has them too).
class NamedFrame implements Frame {
	readonly function: string;
	args: string | null;
	inlined: boolean;
	file: string | null = null;
	line: number | null = null;
	offset: number | null = null;
	fp: string | null = null;
	sp: string | null = null;
	pc: string | null = null;
	#parts: NameParts | null = null;

	constructor(name: string, args: string | null) {
		this.function = name;
		this.args = args;
		this.inlined = args === "...";
	}

	get package(): string {
		this.#parts ??= splitFunctionName(this.function);
		return this.#parts.pkg;
	}

	get receiver(): string | null {
		this.#parts ??= splitFunctionName(this.function);
		return this.#parts.receiver;
	}

	/** The frame as plain data, fields in the order of {@link Frame}. */
	toJSON(): Frame {
		return {
			function: this.function,
			package: this.package,
			receiver: this.receiver,
			args: this.args,
			inlined: this.inlined,
			file: this.file,
			line: this.line,
			offset: this.offset,
			fp: this.fp,
			sp: this.sp,
			pc: this.pc,
		};
	}
}

interface NameParts {
	pkg: string;
	receiver: string | null;
}

// The package path ends at the first `.` after the last `/` (runtime/symtab.go funcNamePiecesForPrint);
// a pointer-receiver method follows as `(*T)`. Value receivers (`pkg.T.M`) print like closures
// (`pkg.f.func1`), so they are not told apart here.
function splitFunctionName(name: string): NameParts {
	// Type arguments (`[...]`) may hold any path; the name proper ends before them.
	const bracket = name.indexOf("[");
	const end = bracket < 0 ? name.length : bracket;
	// Most names have no `/` at all; `indexOf` costs less than `lastIndexOf` on every frame.
	let slash = name.indexOf("/");
	if (slash >= end) slash = -1;
	for (let next = slash; next >= 0 && next < end; next = name.indexOf("/", next + 1)) slash = next;
	const dot = name.indexOf(".", slash + 1);
	if (dot < 0 || dot >= end) return { pkg: "", receiver: null };
	const pkg = decodePackagePath(name.slice(0, dot));
	let receiver: string | null = null;
	if (name.charCodeAt(dot + 1) === 0x28 /* ( */) {
		const close = name.indexOf(")", dot + 2);
		if (close > 0) receiver = name.slice(dot + 2, close);
	}
	return { pkg, receiver };
}

function decodePackagePath(path: string): string {
	if (!path.includes("%")) return path;
	return path.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) =>
		String.fromCharCode(Number.parseInt(hex, 16)),
	);
}
