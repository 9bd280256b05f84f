import { describe, expect, it } from 'vitest';
import { OnlineCounts } from '../../src/domain/onlineCounts.js';

/** Presence that counts what it was asked, with counts the test sets. */
function countingPresence(online: Record<string, number>) {
  const asked: string[][] = [];
  return {
    asked,
    online,
    async count(roomIds: readonly string[]) {
      asked.push([...roomIds]);
      return new Map(roomIds.map((id) => [id, online[id] ?? 0]));
    },
  };
}

describe('OnlineCounts', () => {
  it('reads each room at most once per ttl, however many pages ask, and reads it again after', async () => {
    let now = 0;
    const presence = countingPresence({ a: 1, b: 2, c: 3 });
    const counts = new OnlineCounts(presence, { ttlMs: 1_000, maxRooms: 10 }, () => now);

    expect(await counts.of(['a', 'b'])).toEqual(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    presence.online.a = 5;
    now = 999;
    expect(await counts.of(['a', 'b', 'c'])).toEqual(
      new Map([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]),
    );
    expect(presence.asked).toEqual([['a', 'b'], ['c']]);

    now = 1_000;
    expect((await counts.of(['a'])).get('a')).toBe(5);
    expect(presence.asked).toEqual([['a', 'b'], ['c'], ['a']]);
  });

  it('keeps at most maxRooms counts, forgetting the oldest read first', async () => {
    const presence = countingPresence({});
    const counts = new OnlineCounts(presence, { ttlMs: 60_000, maxRooms: 2 }, () => 0);
    await counts.of(['a']);
    await counts.of(['b']);
    await counts.of(['c']);
    await counts.of(['b', 'c']);
    expect(presence.asked).toEqual([['a'], ['b'], ['c']]);
    await counts.of(['a']);
    expect(presence.asked).toEqual([['a'], ['b'], ['c'], ['a']]);
  });

  it('fails when presence does, unless every count asked for is fresh', async () => {
    const presence = countingPresence({ a: 1 });
    const counts = new OnlineCounts(presence, { ttlMs: 1_000, maxRooms: 10 }, () => 0);
    await counts.of(['a']);
    presence.count = async () => {
      throw new Error('Presence is unavailable');
    };
    expect(await counts.of(['a'])).toEqual(new Map([['a', 1]]));
    await expect(counts.of(['a', 'b'])).rejects.toThrow('Presence is unavailable');
  });
});
