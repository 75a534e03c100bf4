import { expect, test } from "vitest";
import { written } from "../../test/_output.js";

// Every digit count from 1 to 14, the edges of each 32-bit half, and random numbers of every size.
const numbers = [0, 1, 9, 10, 15, 16, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53];
for (let bits = 1; bits <= 53; bits++)
	for (let i = 0; i < 50; i++) numbers.push(Math.floor(Math.random() * 2 ** bits));

test("writes numbers in hex and decimal as toString does, across flushes", () => {
	const text = written((out) => {
		// More than one buffer's worth, so that numbers fall on the flushes.
		for (let round = 0; round < 20; round++)
			for (const n of numbers) {
				out.writeHex(n);
				out.writeByte(0x20);
				out.writeInt(n);
				out.writeByte(0x20);
			}
	});
	const expected = numbers.map((n) => `0x${n.toString(16)} ${n} `).join("");
	expect(text).toBe(expected.repeat(20));
});
