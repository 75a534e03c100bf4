import type { Crash, Goroutine, ParseIssue, RaceReport } from "../traceback/index.js";
import type { BufferedOutput } from "./_buffered.js";

/**
 * Writes the `parse --json` document while crashes stream in, so that a dump of any size is never
 * held whole: `{"crashes":[…],"races":[…],"raceCount":…,"issues":[…],"inputs":[…]}`.
 * A crash's fields other than `goroutines` are written after its goroutines, once they are final.
 */
export class ParseJsonWriter {
	readonly #out: BufferedOutput;
	readonly #races: unknown[] = [];
	readonly #issues: unknown[] = [];
	readonly #inputs: unknown[] = [];
	#raceCount: number | null = null;
	#crashes = 0;
	#open: Crash | null = null;
	#goroutinesInOpen = 0;
	#source = "";

	constructor(out: BufferedOutput) {
		this.#out = out;
		out.write('{"crashes":[');
	}

	/** Names the input the following crashes come from. */
	startInput(source: string): void {
		this.#source = source;
	}

	goroutine(goroutine: Goroutine, crash: Crash): void {
		if (this.#open !== crash) this.#startCrash(crash);
		this.#out.write(`${this.#goroutinesInOpen++ === 0 ? "" : ","}\n${JSON.stringify(goroutine)}`);
	}

	crash(crash: Crash): void {
		if (this.#open !== crash) this.#startCrash(crash);
		const { goroutines: _, kind: __, message: ___, ...rest } = crash;
		this.#out.write(`],${JSON.stringify(rest).slice(1)}`);
		this.#open = null;
	}

	race(race: RaceReport): void {
		this.#races.push({ source: this.#source, ...race });
	}

	/** Records what the scan of one input found besides crashes. */
	endInput(issues: readonly ParseIssue[], raceCount: number | null, lines: number): void {
		for (const issue of issues) this.#issues.push({ source: this.#source, ...issue });
		if (raceCount !== null) this.#raceCount = (this.#raceCount ?? 0) + raceCount;
		this.#inputs.push({ source: this.#source, lines });
	}

	/** Closes the document. */
	end(): void {
		const tail = {
			races: this.#races,
			raceCount: this.#raceCount,
			issues: this.#issues,
			inputs: this.#inputs,
		};
		this.#out.write(`],${JSON.stringify(tail).slice(1)}\n`);
	}

	#startCrash(crash: Crash): void {
		const head = { source: this.#source, kind: crash.kind, message: crash.message };
		this.#out.write(
			`${this.#crashes++ === 0 ? "" : ","}\n${JSON.stringify(head).slice(0, -1)},"goroutines":[`,
		);
		this.#open = crash;
		this.#goroutinesInOpen = 0;
	}
}
