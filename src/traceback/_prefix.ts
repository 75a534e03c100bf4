// Log pipelines put a prefix before every line of crash text. These recognisers strip one
// prefix per line; each is anchored and uses no nested quantifiers, so it runs in linear time.

const goLog = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})? /;
const cri =
	/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d) (?:stdout|stderr) ([FP]) /;
const rfc3339 = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)? /;
const journald = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /;
// `host unit[pid]: ` after a syslog or journald timestamp; the pid is required, so that text
// such as `fatal error: ` is never taken for a host and a unit.
const syslogTag = /^[\w.-]{1,255} [\w./@-]{1,255}\[\d{1,10}\]: /;

/** A line with its log-pipeline prefix removed; `partial` marks a CRI `P` line continued on the next. */
export interface StrippedLine {
	text: string;
	partial: boolean;
	/** False when the line looked like a Docker JSON log line but could not be decoded. */
	ok: boolean;
}

/**
 * Removes one log-pipeline prefix (Docker JSON, CRI, Go log, RFC 3339, journald) from `line`;
 * returns null when the line has none, the common case, so that it costs no allocation.
 */
export function stripLogPrefix(line: string): StrippedLine | null {
	const outer = stripOnePrefix(line);
	if (outer === null || !outer.ok) return outer;
	// Pipelines nest: journald or a container runtime around a Go `log` line.
	for (let depth = 0; depth < 2; depth++) {
		const inner = stripOnePrefix(outer.text);
		if (inner === null || !inner.ok || inner.partial) break;
		outer.text = inner.text;
	}
	return outer;
}

function stripOnePrefix(line: string): StrippedLine | null {
	const first = line.charCodeAt(0);
	if (first === 0x7b /* { */) return decodeDockerJson(line);
	if (first < 0x30 || first > 0x5a) return null;
	if (first <= 0x39) {
		let match = cri.exec(line);
		if (match !== null)
			return { text: line.slice(match[0].length), partial: match[1] === "P", ok: true };
		match = goLog.exec(line);
		if (match !== null) return { text: line.slice(match[0].length), partial: false, ok: true };
		match = rfc3339.exec(line);
		if (match === null) return null;
		return { text: stripSyslogTag(line.slice(match[0].length)), partial: false, ok: true };
	}
	const match = journald.exec(line);
	if (match === null) return null;
	return { text: stripSyslogTag(line.slice(match[0].length)), partial: false, ok: true };
}

function stripSyslogTag(rest: string): string {
	const match = syslogTag.exec(rest);
	return match === null ? rest : rest.slice(match[0].length);
}

function decodeDockerJson(line: string): StrippedLine | null {
	if (!line.startsWith('{"log":')) return null;
	try {
		const value: unknown = JSON.parse(line);
		const log = (value as { log?: unknown }).log;
		if (typeof log !== "string") return { text: line, partial: false, ok: false };
		// Docker splits lines longer than 16 KiB into entries without the trailing newline.
		const partial = !log.endsWith("\n");
		return {
			text: partial ? log : log.slice(0, log.endsWith("\r\n") ? -2 : -1),
			partial,
			ok: true,
		};
	} catch {
		return { text: line, partial: false, ok: false };
	}
}
