import { Buffer } from "node:buffer";
import { closeSync, readSync, writeSync } from "node:fs";
import type {
	Ancestor,
	Crash,
	CreatedBy,
	Frame,
	Goroutine,
	ParseIssue,
	RaceReport,
} from "../traceback/index.js";
import type { BufferedOutput } from "./_buffered.js";
import { openScratchFile } from "./_scratch.js";

/** Characters of race-report JSON held in memory; more go to a temporary file. */
const SPOOL_IN_MEMORY = 4 * 1024 * 1024;

/**
 * Writes the `parse --json` document while crashes stream in, so that a dump of any size is never
 * held whole: `{"crashes":[…],"races":[…],"raceCount":…,"issues":[…],"inputs":[…]}`.
 * Race reports, which the document lists after all crashes, wait as JSON text in a {@link Spool}.
 * Crashes and races may also come as the text a second process wrote (see _parse-parallel.ts).
 */
export class ParseJsonWriter {
	readonly #out: BufferedOutput;
	readonly #crashJson: CrashJson;
	readonly #races = new Spool();
	readonly #issues: unknown[] = [];
	readonly #inputs: unknown[] = [];
	#raceCount: number | null = null;
	#crashes = 0;

	constructor(out: BufferedOutput) {
		this.#out = out;
		this.#crashJson = new CrashJson(out, () => this.#separate());
		out.write('{"crashes":[');
	}

	/** Names the input the following crashes come from. */
	startInput(source: string): void {
		this.#crashJson.source = source;
	}

	goroutine(goroutine: Goroutine, crash: Crash): void {
		this.#crashJson.goroutine(goroutine, crash);
	}

	crash(crash: Crash): void {
		this.#crashJson.crash(crash);
	}

	/** Adds a crash as {@link CrashJson} wrote it, in pieces of UTF-8. */
	crashText(pieces: Iterable<Uint8Array>): void {
		this.#separate();
		for (const piece of pieces) this.#out.writeBytes(piece);
	}

	race(race: RaceReport): void {
		this.#races.add(raceJson(this.#crashJson.source, race));
	}

	/** Adds a race report as {@link raceJson} wrote it. */
	raceText(json: string): void {
		this.#races.add(json);
	}

	/** Records what the scan of one input found besides crashes. */
	endInput(issues: readonly ParseIssue[], raceCount: number | null, lines: number): void {
		const source = this.#crashJson.source;
		for (const issue of issues) this.#issues.push({ source, ...issue });
		if (raceCount !== null) this.#raceCount = (this.#raceCount ?? 0) + raceCount;
		this.#inputs.push({ source, lines });
	}

	/** Closes the document. */
	end(): void {
		this.#out.write('],"races":[');
		this.#races.drain(this.#out);
		const tail = { raceCount: this.#raceCount, issues: this.#issues, inputs: this.#inputs };
		this.#out.write(`],${JSON.stringify(tail).slice(1)}\n`);
	}

	// Crashes are separated by commas; each one's text starts with its own newline.
	#separate(): void {
		if (this.#crashes++ > 0) this.#out.writeByte(0x2c /* , */);
	}
}

/**
 * Writes crashes as they stream in, each as the document lists it: a newline, then the crash.
 * A crash's fields other than `goroutines` are written after its goroutines, once they are final.
 * `opening` is told before the first byte of each crash.
 */
export class CrashJson {
	/** The input the crashes come from, for their `source`. */
	source = "";
	readonly #out: BufferedOutput;
	readonly #opening: (crash: Crash) => void;
	#open: Crash | null = null;
	#goroutinesInOpen = 0;

	constructor(out: BufferedOutput, opening: (crash: Crash) => void) {
		this.#out = out;
		this.#opening = opening;
	}

	goroutine(goroutine: Goroutine, crash: Crash): void {
		if (this.#open !== crash) this.#start(crash);
		this.#out.writeAscii(this.#goroutinesInOpen++ === 0 ? "\n" : ",\n");
		writeGoroutine(this.#out, goroutine);
	}

	crash(crash: Crash): void {
		if (this.#open !== crash) this.#start(crash);
		const { goroutines: _, kind: __, message: ___, ...rest } = crash;
		this.#out.write(`],${JSON.stringify(rest).slice(1)}`);
		this.#open = null;
	}

	#start(crash: Crash): void {
		this.#opening(crash);
		const head = { source: this.source, kind: crash.kind, message: crash.message };
		this.#out.write(`\n${JSON.stringify(head).slice(0, -1)},"goroutines":[`);
		this.#open = crash;
		this.#goroutinesInOpen = 0;
	}
}

/** A race report as the document lists it. */
export function raceJson(source: string, race: RaceReport): string {
	return JSON.stringify({ source, ...race });
}

// A dump's goroutines are nearly all of the document. Written field by field straight into the
// output's bytes, they cost less than JSON.stringify, which walks each frame through its toJSON
// and whose text is then encoded again (on 54 MB of small crashes, about 240 ms against 310 ms
// in a profile). The text is JSON.stringify's, field for field: a test holds them to it on every
// fixture.

/** Writes `JSON.stringify(goroutine)`. */
export function writeGoroutine(out: BufferedOutput, g: Goroutine): void {
	out.writeBytes(pieces.id);
	writeNullableNumber(out, g.id);
	out.writeBytes(pieces.state);
	out.writeJsonString(g.state);
	out.writeBytes(pieces.stateText);
	out.writeJsonString(g.stateText);
	out.writeBytes(g.scan ? pieces.scanTrue : pieces.scanFalse);
	writeNullableNumber(out, g.waitMinutes);
	out.writeBytes(g.lockedToThread ? pieces.lockedTrue : pieces.lockedFalse);
	writeNullableString(out, g.gp);
	out.writeBytes(pieces.m);
	writeNullableString(out, g.m);
	out.writeBytes(pieces.mp);
	writeNullableString(out, g.mp);
	out.writeBytes(pieces.frames);
	writeFrames(out, g.frames);
	out.writeBytes(pieces.elided);
	for (let i = 0; i < g.elided.length; i++) {
		const e = g.elided[i] as Goroutine["elided"][number];
		out.writeBytes(i === 0 ? pieces.index : pieces.nextIndex);
		out.writeJsonNumber(e.index);
		out.writeBytes(pieces.count);
		writeNullableNumber(out, e.count);
		out.writeByte(0x7d /* } */);
	}
	out.writeBytes(g.stackUnavailable ? pieces.unavailableTrue : pieces.unavailableFalse);
	writeCreatedBy(out, g.createdBy);
	out.writeBytes(pieces.ancestors);
	for (let i = 0; i < g.ancestors.length; i++) {
		if (i > 0) out.writeByte(0x2c /* , */);
		writeAncestor(out, g.ancestors[i] as Ancestor);
	}
	out.writeBytes(pieces.line);
	out.writeJsonNumber(g.line);
	out.writeByte(0x7d /* } */);
}

function writeAncestor(out: BufferedOutput, a: Ancestor): void {
	out.writeBytes(pieces.id);
	out.writeJsonNumber(a.id);
	out.writeBytes(pieces.frames);
	writeFrames(out, a.frames);
	out.writeBytes(pieces.createdBy);
	writeCreatedBy(out, a.createdBy);
	out.writeByte(0x7d /* } */);
}

function writeCreatedBy(out: BufferedOutput, c: CreatedBy | null): void {
	if (c === null) return out.writeBytes(pieces.null);
	out.writeBytes(pieces.frame);
	writeFrame(out, c.frame);
	out.writeBytes(pieces.goroutine);
	writeNullableNumber(out, c.goroutine);
	out.writeByte(0x7d /* } */);
}

function writeFrames(out: BufferedOutput, frames: readonly Frame[]): void {
	out.writeByte(0x5b /* [ */);
	for (let i = 0; i < frames.length; i++) {
		if (i > 0) out.writeByte(0x2c /* , */);
		writeFrame(out, frames[i] as Frame);
	}
	out.writeByte(0x5d /* ] */);
}

function writeFrame(out: BufferedOutput, f: Frame): void {
	out.writeBytes(pieces.function);
	out.writeJsonString(f.function);
	out.writeBytes(pieces.package);
	out.writeJsonString(f.package);
	const receiver = f.receiver;
	if (receiver === null) out.writeBytes(pieces.noReceiver);
	else {
		out.writeBytes(pieces.receiver);
		out.writeJsonString(receiver);
		out.writeBytes(pieces.args);
	}
	writeNullableString(out, f.args);
	out.writeBytes(f.inlined ? pieces.inlinedTrue : pieces.inlinedFalse);
	writeNullableString(out, f.file);
	out.writeBytes(pieces.fileLine);
	writeNullableNumber(out, f.line);
	out.writeBytes(pieces.offset);
	writeNullableNumber(out, f.offset);
	// Only tracebacks of the runtime's own frames, and GOTRACEBACK=system ones, print fp, sp, pc.
	if (f.fp === null && f.sp === null && f.pc === null) {
		out.writeBytes(pieces.noPointers);
		return;
	}
	out.writeBytes(pieces.fp);
	writeNullableString(out, f.fp);
	out.writeBytes(pieces.sp);
	writeNullableString(out, f.sp);
	out.writeBytes(pieces.pc);
	writeNullableString(out, f.pc);
	out.writeByte(0x7d /* } */);
}

function writeNullableString(out: BufferedOutput, s: string | null): void {
	if (s === null) out.writeBytes(pieces.null);
	else out.writeJsonString(s);
}

function writeNullableNumber(out: BufferedOutput, n: number | null): void {
	if (n === null) out.writeBytes(pieces.null);
	else out.writeJsonNumber(n);
}

// The fixed text between the fields, encoded once: copying bytes costs half of encoding a string.
const pieces = {
	null: Buffer.from("null"),
	id: Buffer.from('{"id":'),
	state: Buffer.from(',"state":'),
	stateText: Buffer.from(',"stateText":'),
	scanTrue: Buffer.from(',"scan":true,"waitMinutes":'),
	scanFalse: Buffer.from(',"scan":false,"waitMinutes":'),
	lockedTrue: Buffer.from(',"lockedToThread":true,"gp":'),
	lockedFalse: Buffer.from(',"lockedToThread":false,"gp":'),
	m: Buffer.from(',"m":'),
	mp: Buffer.from(',"mp":'),
	frames: Buffer.from(',"frames":'),
	elided: Buffer.from(',"elided":['),
	index: Buffer.from('{"index":'),
	nextIndex: Buffer.from(',{"index":'),
	count: Buffer.from(',"count":'),
	unavailableTrue: Buffer.from('],"stackUnavailable":true,"createdBy":'),
	unavailableFalse: Buffer.from('],"stackUnavailable":false,"createdBy":'),
	ancestors: Buffer.from(',"ancestors":['),
	line: Buffer.from('],"line":'),
	createdBy: Buffer.from(',"createdBy":'),
	frame: Buffer.from('{"frame":'),
	goroutine: Buffer.from(',"goroutine":'),
	function: Buffer.from('{"function":'),
	package: Buffer.from(',"package":'),
	receiver: Buffer.from(',"receiver":'),
	args: Buffer.from(',"args":'),
	noReceiver: Buffer.from(',"receiver":null,"args":'),
	inlinedTrue: Buffer.from(',"inlined":true,"file":'),
	inlinedFalse: Buffer.from(',"inlined":false,"file":'),
	fileLine: Buffer.from(',"line":'),
	offset: Buffer.from(',"offset":'),
	fp: Buffer.from(',"fp":'),
	sp: Buffer.from(',"sp":'),
	pc: Buffer.from(',"pc":'),
	noPointers: Buffer.from(',"fp":null,"sp":null,"pc":null}'),
};

/**
 * Comma-separated pieces of JSON text kept in order: in memory up to {@link SPOOL_IN_MEMORY}
 * characters, then in a temporary file, so that any number of them takes flat memory. The file
 * is unlinked as soon as it is open, so nothing is left behind whatever happens to the process.
 */
class Spool {
	#pieces: string[] = [];
	#size = 0;
	#count = 0;
	#fd: number | null = null;
	#written = 0;

	add(json: string): void {
		this.#pieces.push(this.#count++ === 0 ? json : `,${json}`);
		this.#size += json.length;
		if (this.#size >= SPOOL_IN_MEMORY) this.#spill();
	}

	/** Writes every piece to `out` and frees them. */
	drain(out: BufferedOutput): void {
		const fd = this.#fd;
		if (fd !== null) {
			// The file holds UTF-8 already: its bytes go out as they are.
			const buffer = Buffer.alloc(1024 * 1024);
			for (let at = 0; at < this.#written; ) {
				const n = readSync(fd, buffer, 0, buffer.length, at);
				if (n === 0) break;
				out.writeBytes(buffer.subarray(0, n));
				at += n;
			}
			closeSync(fd);
			this.#fd = null;
		}
		for (const piece of this.#pieces) out.write(piece);
		this.#pieces = [];
		this.#size = 0;
	}

	#spill(): void {
		const fd = this.#fd ?? openScratchFile("races.json");
		this.#fd = fd;
		this.#written += writeSync(fd, this.#pieces.join(""), this.#written);
		this.#pieces = [];
		this.#size = 0;
	}
}
