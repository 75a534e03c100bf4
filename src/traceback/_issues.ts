import type { ParseIssue } from "./_model.js";

/** Most issues kept; later ones are only counted. */
const MAX_ISSUES = 10_000;

/** The issues of one input as a parse result lists them: the first ten thousand, then a count. */
export class IssueList {
	readonly #kept: ParseIssue[] = [];
	#dropped = 0;

	add(issue: ParseIssue): void {
		if (this.#kept.length >= MAX_ISSUES) this.#dropped++;
		else this.#kept.push(issue);
	}

	/** The issues kept, and one saying how many more there were, at `lines`, the input's end. */
	list(lines: number): ParseIssue[] {
		if (this.#dropped === 0) return this.#kept;
		const more = `${this.#dropped} more issues not listed`;
		return [...this.#kept, { code: "unplaced-line", line: lines, message: more }];
	}
}
