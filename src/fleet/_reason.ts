import type { Crash, Signal } from "../traceback/index.js";

const MAX_REASON = 200;

// Go ≤1.20 prints `panic: nil` for panic(nil); 1.21+ panics with *runtime.PanicNilError instead
// (runtime/panic.go), unless GODEBUG=panicnil=1 restores the old text.
const RENAMED: ReadonlyMap<string, string> = new Map([["nil", "panic called with nil argument"]]);

/**
 * The reason with what changes from crash to crash replaced, so that `index out of range [5] with
 * length 3` and `index out of range [7] with length 2` share one class: the first line only (a
 * multi-line value goes on with whatever the program put in it), quoted text by `"…"`, addresses
 * (hex, IP with port) by ADDR, UUIDs and long hex ids by ID, other numbers by N.
 */
export function normalizeReason(text: string): string {
	const first = (text.split("\n", 1)[0] ?? "").slice(0, MAX_REASON * 4);
	const normalized = first
		.replace(/"(?:[^"\\]|\\.){0,400}"/g, '"…"')
		.replace(/`[^`]{0,400}`/g, "`…`")
		.replace(/\[[0-9a-fA-F:]{2,45}\]:\d{1,5}\b/g, "ADDR")
		.replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, "ADDR")
		.replace(/\b0x[0-9a-fA-F]+\b/g, "ADDR")
		.replace(/\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b/g, "ID")
		.replace(/\b(?=[a-fA-F]{0,31}\d)[0-9a-fA-F]{12,}\b/g, "ID")
		.replace(/\b\d+(?:\.\d+)?/g, "N")
		.replace(/\s+/g, " ")
		.trim()
		.slice(0, MAX_REASON);
	return RENAMED.get(normalized) ?? normalized;
}

/** The sigcode as a signed number: Go prints it unsigned, so SI_TKILL (-6) reads 18446744073709551610. */
function signalCode(signal: Signal): bigint | null {
	if (signal.code === null || !/^(?:0x[0-9a-fA-F]{1,16}|\d{1,20})$/.test(signal.code)) return null;
	return BigInt.asIntN(64, BigInt(signal.code));
}

/**
 * Whether the signal was sent with kill(2) (si_code SI_USER, 0) rather than raised by a fault or
 * by the process itself (abort uses tgkill: SI_TKILL): the kernel then delivers it to any thread,
 * so the goroutine printed first is whatever that thread ran, and `addr` is the sender's pid.
 */
export function isSentSignal(signal: Signal): boolean {
	return signalCode(signal) === 0n;
}

/** Where a fault address points: nil, a small offset from nil (a field of a nil struct), or elsewhere. */
export function addressClass(addr: string | null): string | null {
	if (addr === null || !/^0x[0-9a-fA-F]{1,16}$/.test(addr)) return null;
	const n = BigInt(addr);
	if (n === 0n) return "addr=nil";
	return n < 0x1000n ? "addr=nil+small" : "addr=other";
}

/** A signal as a reason class: its name and, for a fault, where it pointed; `in cgo` for C code. */
export function signalClass(signal: Signal, inCgo: boolean): string {
	if (isSentSignal(signal)) return `${signal.name} sent by kill`;
	if (inCgo) return `${signal.name} in C code (cgo)`;
	const where = addressClass(signal.addr);
	return where === null ? signal.name : `${signal.name} ${where}`;
}

/** What the reason class says and the sentences explaining how it was chosen. */
export interface ReasonClass {
	readonly reason: string;
	readonly notes: readonly string[];
}

/**
 * The reason class of a crash: a fatal error before a panic (it is what killed the program), the
 * last panic of a chain (the one whose stack is printed), the signal with its address class.
 */
export function reasonClass(crash: Crash, inCgo: boolean): ReasonClass {
	const notes: string[] = [];
	const signal = crash.signal;
	const sig = signal === null ? null : signalClass(signal, inCgo);
	const last = crash.panics.at(-1);
	let reason: string;
	if (crash.fatal !== null && /^unexpected signal during runtime execution/.test(crash.fatal)) {
		// Go ≤1.20 prints a signal in C code this way; later ones print the `SIGSEGV:` header form.
		reason = sig ?? `fatal error: ${normalizeReason(crash.fatal)}`;
		if (sig !== null)
			notes.push("'unexpected signal during runtime execution' is classed by its signal");
	} else if (crash.fatal !== null) {
		reason = `fatal error: ${normalizeReason(crash.fatal)}`;
		if (last !== undefined)
			notes.push(
				`the fatal error ended a panic (${normalizeReason(last.value)}): classed by the fatal error`,
			);
	} else if (last !== undefined) {
		reason = `panic: ${normalizeReason(last.value)}`;
		const first = crash.panics[0];
		if (
			first !== undefined &&
			first !== last &&
			normalizeReason(first.value) !== normalizeReason(last.value)
		)
			notes.push(
				`the last of ${crash.panics.length} panics is the class; the chain began with: ${normalizeReason(first.value)}`,
			);
	} else if (sig !== null) reason = sig;
	else if (crash.message !== null) reason = normalizeReason(crash.message);
	else reason = "goroutine dump";
	if (sig !== null && !reason.startsWith(sig) && signal !== null && !reason.startsWith(signal.name))
		reason += ` [${sig}]`;
	return { reason, notes };
}
