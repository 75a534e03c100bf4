import { createHash } from "node:crypto";
import { type CutReport, ReportCutter } from "../../traceback/index.js";
import { type Attributes, lineOrigin } from "./_origin.js";
import type { ReportBody } from "./_spool.js";

/** What is sent with every report of a stream. */
export interface StreamOrigin {
	readonly host: string;
	readonly service: string;
	readonly attributes: Attributes;
}

/** What a stream must remember across restarts: the text it holds and how many reports it gave. */
export interface StreamState {
	readonly held: string;
	readonly reports: number;
}

/** Lines from the end of a report looked at for its time. */
const TIME_LINES = 50;

/**
 * One stream of log text (a file, standard input, a journal unit): the reports cut out of it,
 * each made into an API body as soon as it is complete. A report's idempotency key comes from
 * the stream, the report's number in it and its text, so that reading the same text again after
 * a restart gives the same key and the server stores it once.
 */
export class LogStream {
	readonly id: string;
	origin: StreamOrigin;
	/** When text last arrived (ms since the epoch). */
	lastData: number;
	/** The time the source gave the last text (the journal's), if it gives one. */
	#lastTime: number | null = null;
	readonly #cutter: ReportCutter;
	readonly #ready: ReportBody[] = [];
	#reports: number;
	readonly #now: () => number;

	constructor(id: string, origin: StreamOrigin, saved: StreamState | null, now: () => number) {
		this.id = id;
		this.origin = origin;
		this.#now = now;
		this.lastData = now();
		this.#reports = saved?.reports ?? 0;
		this.#cutter = new ReportCutter((report) => this.#ready.push(this.#body(report)));
		if (saved !== null) this.#cutter.write(saved.held);
	}

	/** Feeds text, with the time the source says it was written if it says; returns the reports it completed. */
	write(text: string, time: number | null = null): ReportBody[] {
		if (text.length > 0) this.lastData = this.#now();
		if (time !== null) this.#lastTime = time;
		this.#cutter.write(text);
		return this.#ready.splice(0);
	}

	/** Ends what is open (after a quiet period, at the end of the input); returns its reports. */
	flush(): ReportBody[] {
		this.#cutter.flush();
		return this.#ready.splice(0);
	}

	/** True while a report may be open. */
	get open(): boolean {
		return this.#cutter.open;
	}

	/** What to save so that a new stream resumes where this one is. */
	get state(): StreamState {
		return { held: this.#cutter.held, reports: this.#reports };
	}

	#body(report: CutReport): ReportBody {
		const number = ++this.#reports;
		const lines = report.text.split("\n");
		let time: number | null = null;
		let lineAttributes: Attributes = [];
		for (let i = lines.length - 1; i >= Math.max(0, lines.length - TIME_LINES); i--) {
			const found = lineOrigin(lines[i] ?? "");
			if (found.time !== null) {
				time = found.time;
				lineAttributes = found.attributes;
				break;
			}
		}
		const attributes: Record<string, string> = {};
		for (const [name, value] of [...lineAttributes, ...this.origin.attributes])
			attributes[name] = value;
		if (report.truncated) attributes.truncated = "true";
		const key = createHash("sha256")
			.update(`${this.origin.host}\0${this.id}\0${number}\0${report.text}`)
			.digest("hex")
			.slice(0, 40);
		return {
			text: report.text,
			kind: "fatal",
			time: new Date(time ?? this.#lastTime ?? this.#now()).toISOString(),
			host: this.origin.host,
			service: this.origin.service,
			version: "",
			attributes,
			idempotencyKey: key,
		};
	}
}
