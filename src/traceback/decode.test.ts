import { Buffer } from "node:buffer";
import { describe, expect, test } from "vitest";
import { Utf8Pieces } from "./index.js";

function decode(chunks: Uint8Array[], continued = false): string {
	let text = "";
	const pieces = new Utf8Pieces((t) => (text += t), { continued });
	for (const chunk of chunks) pieces.write(chunk);
	pieces.end();
	return text;
}

/** `bytes` cut at every one of `at`. */
function cut(bytes: Buffer, ...at: number[]): Buffer[] {
	return [0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length));
}

describe("UTF-8 decoding in pieces", () => {
	// Pieces are 32 KiB: a piece of ASCII before a byte order mark is read as Latin-1.
	const ascii = "a".repeat(32 * 1024);
	const bytes = Buffer.from(`${ascii}\uFEFFpanic: é\n`);

	test("a byte order mark inside the text is kept, wherever the chunks are cut", () => {
		const whole = decode([bytes]);
		expect(whole).toBe(`${ascii}\uFEFFpanic: é\n`);
		for (const at of [1, 32 * 1024, 32 * 1024 + 1, 32 * 1024 + 2, 32 * 1024 + 3, bytes.length - 2])
			expect(decode(cut(bytes, at))).toBe(whole);
	});

	test("one at the very start is dropped, even cut in three; not when the bytes go on from elsewhere", () => {
		const start = Buffer.from("\uFEFFpanic: é\n");
		expect(decode([start])).toBe("panic: é\n");
		expect(decode(cut(start, 1, 2))).toBe("panic: é\n");
		expect(decode([start], true)).toBe("\uFEFFpanic: é\n");
		expect(decode([Buffer.from([0xef])])).toBe("\uFFFD");
	});
});
