import type { Token } from "./_classify.js";
import type { Goroutine, Signal, StackDump } from "./_model.js";

/** A signal as the scanner first sees it; `PC=` and cgo lines fill in the rest. */
export function newSignal(
	name: string,
	description: string,
	code: string | null,
	addr: string | null,
	pc: string | null,
): Signal {
	return { name, description, code, addr, pc, m: null, duringCgo: false, instructionBytes: null };
}

/** A goroutine from its header line, with the state text split into its parts. */
export function newGoroutine(
	token: Extract<Token, { kind: "goroutine" }>,
	line: number,
): Goroutine {
	const parts = token.stateText.split(", ");
	let state = parts[0] ?? "";
	let scan = false;
	if (state.endsWith(" (scan)")) {
		scan = true;
		state = state.slice(0, -7);
	}
	let waitMinutes: number | null = null;
	let lockedToThread = false;
	for (const extra of parts.slice(1)) {
		if (extra === "locked to thread") lockedToThread = true;
		else if (extra.endsWith(" minutes")) {
			const minutes = Number(extra.slice(0, -8));
			if (Number.isInteger(minutes)) waitMinutes = minutes;
		}
	}
	return {
		id: token.id,
		state,
		stateText: token.stateText,
		scan,
		waitMinutes,
		lockedToThread,
		gp: token.gp,
		m: token.m,
		mp: token.mp,
		frames: [],
		elided: [],
		stackUnavailable: false,
		createdBy: null,
		ancestors: [],
		line,
	};
}

/**
 * The goroutine a Windows exception stopped, whose stack Go prints without a header: its id and
 * state are not printed; it was running.
 */
export function headerlessGoroutine(line: number): Goroutine {
	return {
		id: null,
		state: "running",
		stateText: "",
		scan: false,
		waitMinutes: null,
		lockedToThread: false,
		gp: null,
		m: null,
		mp: null,
		frames: [],
		elided: [],
		stackUnavailable: false,
		createdBy: null,
		ancestors: [],
		line,
	};
}

// runtime/mprof.go hexdumpWords: each word is a one-character mark then the hex value, then an
// optional `<func+0xoff>` symbol.
/** Adds the words of one `unexpected return pc` stack dump line. */
export function readStackWords(dump: StackDump, address: string, rest: string): void {
	const base = BigInt(address);
	let offset = 0n;
	for (const field of rest.split(" ")) {
		if (field.length === 0) continue;
		if (field.startsWith("<") && field.endsWith(">") && !field.startsWith("<0x")) {
			const last = dump.words.at(-1);
			if (last !== undefined) last.symbol = field.slice(1, -1);
			continue;
		}
		const mark = field.startsWith("0x") ? null : field.slice(0, 1);
		const value = mark === null ? field : field.slice(1);
		dump.words.push({
			address: `0x${(base + offset).toString(16)}`,
			value,
			marker: mark,
			symbol: null,
		});
		// Values are printed with as many digits as a pointer has (minhexdigits = 2*PtrSize).
		offset += BigInt(Math.max(1, (value.length - 2) >> 1));
	}
}
