import { expect, it } from "vitest";
import type { NextTail, StreamStore } from "./_stream-types.js";
import type { NewCrash, Store } from "./_types.js";

/** One tail's write alone. */
const advance = async (
	s: StreamStore,
	key: string,
	version: number | null,
	next: NextTail | null,
	crashes: readonly NewCrash[],
) => (await s.advance([{ key, version, next, crashes }]))[0];

const getTail = async (s: StreamStore, key: string) => (await s.getTails([key])).get(key) ?? null;

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
		expect(await getTail(s, "s1")).toBeNull();
		expect(await advance(s, "s1", null, tail("panic: a\n", t0, ["d1"]), [])).toEqual([]);
		expect(await getTail(s, "s1")).toEqual({
			key: "s1",
			...tail("panic: a\n", t0, ["d1"]),
			version: 1,
		});
		// A writer that read no tail, or an older version, loses to the one that wrote first.
		expect(await advance(s, "s1", null, tail("other\n", t0 + 1), [])).toBeNull();
		const [c1, c2] = sample(2, "stream-a");
		expect(
			await advance(s, "s1", 1, tail("goroutine 1\n", t0 + 2, ["d1", "d2"]), [
				c1 as NewCrash,
				c2 as NewCrash,
			]),
		).toEqual([
			{ id: c1?.id, bucket: c1?.signature.id, duplicate: false },
			{ id: c2?.id, bucket: c2?.signature.id, duplicate: false },
		]);
		const lost = sample(1, "stream-lost");
		expect(await advance(s, "s1", 1, tail("x\n", t0 + 3), lost)).toBeNull();
		expect(await store().getCrash(lost[0]?.id as string)).toBeNull();
		expect((await store().getCrash(c1?.id as string))?.id).toBe(c1?.id);
		expect((await getTail(s, "s1"))?.version).toBe(2);
		// The same crash again (its idempotency key) is not stored twice.
		const again = { ...(c1 as NewCrash), id: "stream-a-again" };
		expect(await advance(s, "s1", 2, tail("y\n", t0 + 4), [again])).toEqual([
			{ id: c1?.id, bucket: c1?.signature.id, duplicate: true },
		]);
		expect(await store().getCrash("stream-a-again")).toBeNull();
		// Deleting needs the version too.
		expect(await advance(s, "s1", 2, null, [])).toBeNull();
		expect(await advance(s, "s1", 3, null, [])).toEqual([]);
		expect(await getTail(s, "s1")).toBeNull();
		await expect(advance(s, "s1", null, null, [])).rejects.toThrow(/never written/);
	});

	it("writes several tails in one transaction, each only if it was not changed", async () => {
		const s = store().streams;
		await advance(s, "m-b", null, tail("b\n", t0), []);
		const [x, y, z] = sample(3, "stream-m");
		const results = await s.advance([
			{ key: "m-c", version: null, next: tail("c\n", t0), crashes: [x as NewCrash] },
			{ key: "m-b", version: 7, next: tail("b2\n", t0), crashes: [y as NewCrash] },
			{ key: "m-a", version: null, next: tail("a\n", t0), crashes: [z as NewCrash] },
		]);
		expect(results).toEqual([
			[{ id: x?.id, bucket: x?.signature.id, duplicate: false }],
			null,
			[{ id: z?.id, bucket: z?.signature.id, duplicate: false }],
		]);
		expect(await store().getCrash(y?.id as string)).toBeNull();
		expect(await s.getTails(["m-a", "m-b", "m-c", "m-none"])).toEqual(
			new Map([
				["m-a", { key: "m-a", ...tail("a\n", t0), version: 1 }],
				["m-b", { key: "m-b", ...tail("b\n", t0), version: 1 }],
				["m-c", { key: "m-c", ...tail("c\n", t0), version: 1 }],
			]),
		);
		expect(await s.advance([])).toEqual([]);
		for (const key of ["m-a", "m-b", "m-c"]) await advance(s, key, 1, null, []);
	});

	it("lists the tails idle since a time, oldest first", async () => {
		const s = store().streams;
		await advance(s, "idle-b", null, tail("b\n", t0 + 20), []);
		await advance(s, "idle-a", null, tail("a\n", t0 + 10), []);
		await advance(s, "busy", null, tail("c\n", t0 + 99), []);
		expect((await s.idleTails(t0 + 50, 10)).map((t) => t.key)).toEqual(["idle-a", "idle-b"]);
		expect((await s.idleTails(t0 + 50, 1)).map((t) => t.key)).toEqual(["idle-a"]);
		expect(await s.idleTails(t0, 10)).toEqual([]);
	});

	it("lets one of two servers writing the same tail at once win, and stores only its crashes", async () => {
		const other = await second();
		try {
			const key = "raced";
			await advance(store().streams, key, null, tail("start\n", t0), []);
			for (let round = 0; round < 5; round++) {
				const version = (await getTail(store().streams, key))?.version as number;
				const mine = sample(1, `race-${round}-a`);
				const theirs = sample(1, `race-${round}-b`);
				const writes = [
					() => advance(store().streams, key, version, tail(`a${round}\n`, t0 + round), mine),
					() => advance(other.streams, key, version, tail(`b${round}\n`, t0 + round), theirs),
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
				expect((await getTail(store().streams, key))?.version).toBe(version + 1);
			}
		} finally {
			await other.close();
		}
	});
}
