import type { Frame } from "./_model.js";

/** Builds a frame from a function line's name and argument text; the file part is filled later. */
export function newFrame(name: string, args: string | null): Frame {
	const { pkg, receiver } = splitFunctionName(name);
	return {
		function: name,
		package: pkg,
		receiver,
		args,
		inlined: args === "...",
		file: null,
		line: null,
		offset: null,
		fp: null,
		sp: null,
		pc: null,
	};
}

// The package path ends at the first `.` after the last `/` (runtime/symtab.go funcNamePiecesForPrint);
// a pointer-receiver method follows as `(*T)`. Value receivers (`pkg.T.M`) print like closures
// (`pkg.f.func1`), so they are not told apart here.
function splitFunctionName(name: string): { pkg: string; receiver: string | null } {
	const bracket = name.indexOf("[");
	const head = bracket < 0 ? name : name.slice(0, bracket);
	const slash = head.lastIndexOf("/");
	const dot = head.indexOf(".", slash + 1);
	if (dot < 0) return { pkg: "", receiver: null };
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
