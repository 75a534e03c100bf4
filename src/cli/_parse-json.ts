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
	out.writeAscii('{"id":');
	writeNullableNumber(out, g.id);
	out.writeAscii(',"state":');
	out.writeJsonString(g.state);
	out.writeAscii(',"stateText":');
	out.writeJsonString(g.stateText);
	out.writeAscii(g.scan ? ',"scan":true,"waitMinutes":' : ',"scan":false,"waitMinutes":');
	writeNullableNumber(out, g.waitMinutes);
	out.writeAscii(
		g.lockedToThread ? ',"lockedToThread":true,"gp":' : ',"lockedToThread":false,"gp":',
	);
	writeNullableString(out, g.gp);
	out.writeAscii(',"m":');
	writeNullableString(out, g.m);
	out.writeAscii(',"mp":');
	writeNullableString(out, g.mp);
	out.writeAscii(',"frames":');
	writeFrames(out, g.frames);
	out.writeAscii(',"elided":[');
	for (let i = 0; i < g.elided.length; i++) {
		const e = g.elided[i] as Goroutine["elided"][number];
		out.writeAscii(i === 0 ? '{"index":' : ',{"index":');
		out.writeJsonNumber(e.index);
		out.writeAscii(',"count":');
		writeNullableNumber(out, e.count);
		out.writeByte(0x7d /* } */);
	}
	out.writeAscii(
		g.stackUnavailable
			? '],"stackUnavailable":true,"createdBy":'
			: '],"stackUnavailable":false,"createdBy":',
	);
	writeCreatedBy(out, g.createdBy);
	out.writeAscii(',"ancestors":[');
	for (let i = 0; i < g.ancestors.length; i++) {
		if (i > 0) out.writeByte(0x2c /* , */);
		writeAncestor(out, g.ancestors[i] as Ancestor);
	}
	out.writeAscii('],"line":');
	out.writeJsonNumber(g.line);
	out.writeByte(0x7d /* } */);
}

function writeAncestor(out: BufferedOutput, a: Ancestor): void {
	out.writeAscii('{"id":');
	out.writeJsonNumber(a.id);
	out.writeAscii(',"frames":');
	writeFrames(out, a.frames);
	out.writeAscii(',"createdBy":');
	writeCreatedBy(out, a.createdBy);
	out.writeByte(0x7d /* } */);
}

function writeCreatedBy(out: BufferedOutput, c: CreatedBy | null): void {
	if (c === null) return out.writeAscii("null");
	out.writeAscii('{"frame":');
	writeFrame(out, c.frame);
	out.writeAscii(',"goroutine":');
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
	out.writeAscii('{"function":');
	out.writeJsonString(f.function);
	out.writeAscii(',"package":');
	out.writeJsonString(f.package);
	out.writeAscii(',"receiver":');
	writeNullableString(out, f.receiver);
	out.writeAscii(',"args":');
	writeNullableString(out, f.args);
	out.writeAscii(f.inlined ? ',"inlined":true,"file":' : ',"inlined":false,"file":');
	writeNullableString(out, f.file);
	out.writeAscii(',"line":');
	writeNullableNumber(out, f.line);
	out.writeAscii(',"offset":');
	writeNullableNumber(out, f.offset);
	out.writeAscii(',"fp":');
	writeNullableString(out, f.fp);
	out.writeAscii(',"sp":');
	writeNullableString(out, f.sp);
	out.writeAscii(',"pc":');
	writeNullableString(out, f.pc);
	out.writeByte(0x7d /* } */);
}

function writeNullableString(out: BufferedOutput, s: string | null): void {
	if (s === null) out.writeAscii("null");
	else out.writeJsonString(s);
}

function writeNullableNumber(out: BufferedOutput, n: number | null): void {
	if (n === null) out.writeAscii("null");
	else out.writeJsonNumber(n);
}

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
