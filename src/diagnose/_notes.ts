/** Most note lines kept, and the longest; crash text can be huge and hostile. */
const MAX_NOTES = 1000;
const MAX_NOTE_LENGTH = 1000;

/**
 * Collects the unindented lines of an input (messages printed before or instead of a crash, such
 * as the GOAMD64 check or a `uname -a` line), streaming, with bounded memory.
 */
export class NoteCollector {
	readonly #seen = new Set<string>();
	#partial = "";

	/** Feeds the next chunk of text. */
	write(chunk: string): void {
		const text = this.#partial + chunk;
		const lines = text.split("\n");
		this.#partial = (lines.pop() ?? "").slice(0, MAX_NOTE_LENGTH * 2);
		for (const line of lines) this.#add(line);
	}

	/** Ends the input and returns the notes in first-seen order. */
	end(): string[] {
		this.#add(this.#partial);
		this.#partial = "";
		return [...this.#seen];
	}

	#add(raw: string): void {
		if (this.#seen.size >= MAX_NOTES) return;
		const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
		if (line === "" || line.length > MAX_NOTE_LENGTH || /^\s/.test(line)) return;
		this.#seen.add(line);
	}
}

/** Collects the notes of a text held in memory. */
export function collectNotes(text: string): string[] {
	const c = new NoteCollector();
	c.write(text);
	return c.end();
}
