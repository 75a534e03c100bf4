import { expect, it } from "vitest";
import type { NextTail } from "./_stream-types.js";
import type { NewCrash, Store } from "./_types.js";

const tail = (held: string, updated: number, batches: string[] = []): NextTail => ({
	origin: JSON.stringify({ host: "web-1", service: "api" }),
	held,
	opened: held === "" ? null : updated - 5,
	last: updated - 1,
	batches,
	updated,
});

/**
 * The stream-tail part of the store suite: `sample` gives crashes no other test stored, and
 * `second` opens another connection to the same database, as a second server would.
 */
export function streamConformance(
	store: () => Store,
	second: () => Promise<Store>,
	sample: (n: number, prefix: string) => NewCrash[],
	t0: number,
): void {
	it("writes a stream's tail compare-and-swap, with the crashes cut from it", async () => {
		const s = store().streams;
		expect(await s.getTail("s1")).toBeNull();
		expect(await s.advance("s1", null, tail("panic: a\n", t0, ["d1"]), [])).toEqual([]);
		expect(await s.getTail("s1")).toEqual({
			key: "s1",
			...tail("panic: a\n", t0, ["d1"]),
			version: 1,
		});
		// A writer that read no tail, or an older version, loses to the one that wrote first.
		expect(await s.advance("s1", null, tail("other\n", t0 + 1), [])).toBeNull();
		const [c1, c2] = sample(2, "stream-a");
		expect(
			await s.advance("s1", 1, tail("goroutine 1\n", t0 + 2, ["d1", "d2"]), [
				c1 as NewCrash,
				c2 as NewCrash,
			]),
		).toEqual([
			{ id: c1?.id, bucket: c1?.signature.id, duplicate: false },
			{ id: c2?.id, bucket: c2?.signature.id, duplicate: false },
		]);
		const lost = sample(1, "stream-lost");
		expect(await s.advance("s1", 1, tail("x\n", t0 + 3), lost)).toBeNull();
		expect(await store().getCrash(lost[0]?.id as string)).toBeNull();
		expect((await store().getCrash(c1?.id as string))?.id).toBe(c1?.id);
		expect((await s.getTail("s1"))?.version).toBe(2);
		// The same crash again (its idempotency key) is not stored twice.
		const again = { ...(c1 as NewCrash), id: "stream-a-again" };
		expect(await s.advance("s1", 2, tail("y\n", t0 + 4), [again])).toEqual([
			{ id: c1?.id, bucket: c1?.signature.id, duplicate: true },
		]);
		expect(await store().getCrash("stream-a-again")).toBeNull();
		// Deleting needs the version too.
		expect(await s.advance("s1", 2, null, [])).toBeNull();
		expect(await s.advance("s1", 3, null, [])).toEqual([]);
		expect(await s.getTail("s1")).toBeNull();
		await expect(s.advance("s1", null, null, [])).rejects.toThrow(/never written/);
	});

	it("lists the tails idle since a time, oldest first", async () => {
		const s = store().streams;
		await s.advance("idle-b", null, tail("b\n", t0 + 20), []);
		await s.advance("idle-a", null, tail("a\n", t0 + 10), []);
		await s.advance("busy", null, tail("c\n", t0 + 99), []);
		expect((await s.idleTails(t0 + 50, 10)).map((t) => t.key)).toEqual(["idle-a", "idle-b"]);
		expect((await s.idleTails(t0 + 50, 1)).map((t) => t.key)).toEqual(["idle-a"]);
		expect(await s.idleTails(t0, 10)).toEqual([]);
	});

	it("lets one of two servers writing the same tail at once win, and stores only its crashes", async () => {
		const other = await second();
		try {
			const key = "raced";
			await store().streams.advance(key, null, tail("start\n", t0), []);
			for (let round = 0; round < 5; round++) {
				const version = (await store().streams.getTail(key))?.version as number;
				const mine = sample(1, `race-${round}-a`);
				const theirs = sample(1, `race-${round}-b`);
				const writes = [
					() => store().streams.advance(key, version, tail(`a${round}\n`, t0 + round), mine),
					() => other.streams.advance(key, version, tail(`b${round}\n`, t0 + round), theirs),
				] as const;
				// Two SQLite connections of one thread cannot both be in a transaction (the second
				// would wait for the first while blocking the thread): there they write one after the other.
				const results =
					store().dialect === "sqlite"
						? [await writes[0](), await writes[1]()]
						: await Promise.all(writes.map((w) => w()));
				expect(results.filter((r) => r !== null)).toHaveLength(1);
				const winner = results[0] === null ? theirs : mine;
				const loser = results[0] === null ? mine : theirs;
				expect((await store().getCrash(winner[0]?.id as string))?.id).toBe(winner[0]?.id);
				expect(await store().getCrash(loser[0]?.id as string)).toBeNull();
				expect((await store().streams.getTail(key))?.version).toBe(version + 1);
			}
		} finally {
			await other.close();
		}
	});
}
