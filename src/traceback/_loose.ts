import type { Token } from "./_classify.js";

/** Fewest frames, one of them with a `+0x` offset, that make a stack worth telling of. */
const MIN_FRAMES = 2;

/** A line number and what to say about the lines from there. */
export interface LooseStack {
	line: number;
	message: string;
}

/**
 * Runs of frames outside any report: a stack pasted without the `goroutine N [state]:` line
 * above it, which nothing can be read from but that it is there. Only stacks as the runtime
 * prints them count (some `+0x` offset): stack traces that loggers print have none.
 */
export class LooseFrames {
	#first = -1;
	#last = -1;
	#frames = 0;
	#offsets = 0;
	#function = false;
	/**
	 * Blank lines in a row inside the run. Go prints none between a function line and its file
	 * line: one there is a double-spaced paste's, after which one between frames is too; two, or
	 * one in a paste not so spaced, end the run.
	 */
	#blanks = 0;
	#spaced = false;
	/** The line before the run: a race report's access or goroutine line, whose report is open no more. */
	#raceLine: number | null = null;
	/** The race report's line the open run follows, if it follows one. */
	#afterRace: number | null = null;

	/** True when no run of frames is open, nor a race report's line before one. */
	get idle(): boolean {
		return this.#first < 0 && this.#raceLine === null;
	}

	/** Looks at a line read while no report is open; returns the run of frames it ended, if any. */
	see(token: Token, line: number): LooseStack | null {
		if (token.kind === "blank" && (this.#function || this.#spaced) && this.#blanks++ === 0)
			return null;
		const blanks = this.#blanks;
		this.#blanks = 0;
		if (token.kind === "function" || token.kind === "created-by") {
			if (this.#first < 0) {
				this.#first = line;
				this.#afterRace = this.#raceLine;
			}
			this.#function = true;
			return null;
		}
		if (token.kind === "file" && this.#function) {
			if (blanks > 0) this.#spaced = true;
			this.#frames++;
			if (token.offset !== null) this.#offsets++;
			this.#last = line;
			this.#function = false;
			return null;
		}
		const stack = this.end();
		if (token.kind === "race-access" || token.kind === "race-goroutine") this.#raceLine = line;
		return stack;
	}

	/** Ends the open run; returns it when it is a stack worth telling of. */
	end(): LooseStack | null {
		const missing =
			this.#afterRace === null
				? "the goroutine header line before it, 'goroutine N [state]:', is missing"
				: `line ${this.#afterRace} above it is a race report's, whose earlier lines, from 'WARNING: DATA RACE' on, are missing`;
		const stack =
			this.#frames >= MIN_FRAMES && this.#offsets > 0
				? {
						line: this.#first,
						message: `lines ${this.#first}-${this.#last}: a stack of ${this.#frames} frames outside any crash (${missing})`,
					}
				: null;
		this.drop();
		return stack;
	}

	/** Forgets the open run: its lines turned out to be a report's. */
	drop(): void {
		this.#first = -1;
		this.#last = -1;
		this.#frames = 0;
		this.#offsets = 0;
		this.#function = false;
		this.#blanks = 0;
		this.#spaced = false;
		this.#raceLine = null;
		this.#afterRace = null;
	}
}
