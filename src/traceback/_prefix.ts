// Log pipelines put a prefix before every line of crash text. These recognisers strip one
// prefix per line; each is anchored and uses no nested quantifiers, so it runs in linear time.

// A prefix followed by a space may stand alone, the space gone (the CRI and GitLab ones, whose
// space is part of the format, aside): the line it stood before was empty and a paste trimmed it.
const goLog = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})?(?: |$)/;
const cri =
	/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d) (?:stdout|stderr) ([FP]) /;
const rfc3339 = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?(?: |$)/;
// journalctl's short and short-precise formats, and syslog's (RFC 3164) timestamp.
const journald = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d{1,6})?(?: |$)/;
// GitLab Runner's FF_TIMESTAMPS: an RFC 3339 UTC time, a stream number in hex, O or E for
// stdout or stderr, and a space or `+` (the line goes on from the one before).
const gitlab = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z [0-9a-f]{2}[OE][ +]/;
// Android's logcat, where the runtime writes its report under the tag `Go` (runtime/
// write_err_android.go) and gomobile's log package under `GoLog`: the default format (threadtime:
// date, time, pid, tid, priority, tag padded to eight) and the time and brief formats.
const logcat =
	/^(?:\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +(?:\d{1,7} +\d{1,7} [VDIWEFSA] [^:]{1,64}|[VDIWEFSA]\/[^(:]{1,64}\( *\d{1,7}\)):(?: |$))/;
const logcatBrief = /^[VDIWEFSA]\/[^(:]{1,64}\( *\d{1,7}\):(?: |$)/;
// `kubectl logs --prefix`: `[pod/NAME/CONTAINER] `.
const kubectl = /^\[pod\/[\w.-]{1,253}\/[\w.-]{1,63}\](?: |$)/;
// `docker compose` (v1 `svc_1`, v2 `svc-1`): the service and its number padded to the longest,
// ` |`, a space; on a terminal the part before the space is coloured.
// (Built from strings: Biome refuses control characters in a regex literal.)
const ESC = "\u001b";
const compose = new RegExp(
	`^(?:${ESC}\\[[\\d;]{0,16}m)?[\\w.-]{0,63}[-_]\\d{1,4} {1,64}\\|(?:${ESC}\\[0m)?(?: |$)`,
);
// Buildkite's timestamp, an APC escape sequence: ESC `_bk;t=` milliseconds BEL.
const buildkite = new RegExp(`^${ESC}_bk;t=\\d{1,16}\u0007`);
// A log system's CSV export (Datadog's, Kibana's): quoted fields, the message last, its quotes
// doubled: `"2023-04-26T22:05:11.509Z","fatal error: concurrent map read and map write"`.
const csvFields = /^(?:"[^"]{0,256}",){1,8}"/;
// `host unit[pid]: ` after a syslog or journald timestamp; the pid is required, so that text
// such as `fatal error: ` is never taken for a host and a unit.
const syslogTag = /^[\w.-]{1,255} [\w./@-]{1,255}\[\d{1,10}\]:(?: |$)/;
// rsyslog writes a control character as `#` and its octal code: a frame's leading tab as `#011`.
// No line of Go's starts with `#`, so the tabs are restored whatever tag or prefix came before.
const rsyslogTabs = /^(?:#011)+/;

/** A line with its log-pipeline prefix removed; `partial` marks a CRI `P` line continued on the next. */
export interface StrippedLine {
	text: string;
	partial: boolean;
	/** False when the line looked like a Docker JSON log line but could not be decoded. */
	ok: boolean;
}

/**
 * Removes one log-pipeline prefix (Docker JSON, CRI, Go log, RFC 3339, journald and syslog,
 * GitLab, GitHub Actions, Buildkite, Android's logcat, kubectl --prefix, docker compose, a CSV
 * export's fields)
 * from `line`;
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
	if (first === 0x5b /* [ */) return stripped(line, kubectl.exec(line));
	if (first === 0x22 /* " */) return csvMessage(line);
	if (first === 0x1b /* ESC */) return stripped(line, buildkite.exec(line) ?? compose.exec(line));
	if (first === 0x23 /* # */) return rsyslogTabsRestored(line);
	if (first > 0x5a || first < 0x30) {
		// Service names: the cheap test first, since this is every function line's path.
		const bar = line.indexOf("|");
		return bar < 0 || bar > 140 ? null : stripped(line, compose.exec(line));
	}
	if (first <= 0x39) {
		let match = cri.exec(line);
		if (match !== null)
			return { text: line.slice(match[0].length), partial: match[1] === "P", ok: true };
		match = goLog.exec(line);
		if (match !== null) return { text: line.slice(match[0].length), partial: false, ok: true };
		match = gitlab.exec(line) ?? logcat.exec(line);
		if (match !== null) return { text: line.slice(match[0].length), partial: false, ok: true };
		match = rfc3339.exec(line);
		if (match === null) return null;
		return { text: stripSyslogTag(line.slice(match[0].length)), partial: false, ok: true };
	}
	if (line.charCodeAt(1) === 0x2f /* / */) return stripped(line, logcatBrief.exec(line));
	const match = journald.exec(line);
	if (match === null) return stripped(line, compose.exec(line));
	return { text: stripSyslogTag(line.slice(match[0].length)), partial: false, ok: true };
}

function csvMessage(line: string): StrippedLine | null {
	const match = line.endsWith('"') ? csvFields.exec(line) : null;
	if (match === null || match[0].length === line.length) return null;
	return { text: line.slice(match[0].length, -1).replaceAll('""', '"'), partial: false, ok: true };
}

function stripped(line: string, match: RegExpExecArray | null): StrippedLine | null {
	return match === null ? null : { text: line.slice(match[0].length), partial: false, ok: true };
}

function stripSyslogTag(rest: string): string {
	const match = syslogTag.exec(rest);
	return match === null ? rest : rest.slice(match[0].length);
}

function rsyslogTabsRestored(line: string): StrippedLine | null {
	const tabs = rsyslogTabs.exec(line);
	if (tabs === null) return null;
	const text = `${"\t".repeat(tabs[0].length / 4)}${line.slice(tabs[0].length)}`;
	return { text, partial: false, ok: true };
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
