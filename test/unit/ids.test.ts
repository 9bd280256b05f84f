import { describe, expect, it } from 'vitest';
import { messageIdSchema } from '../../src/contract/schemas.js';
import { createUlidFactory, ulid } from '../../src/domain/ids.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const decodeTime = (id: string) =>
  [...id.slice(0, 10)].reduce((time, char) => time * 32 + ALPHABET.indexOf(char), 0);
/** Index of the first id not greater than the one before it, or -1 when strictly increasing. */
const firstOutOfOrder = (ids: string[]) =>
  ids.findIndex((id, i) => i > 0 && id <= (ids[i - 1] as string));

describe('ulid', () => {
  it('makes 26-character Crockford ids that the contract accepts as message ids', () => {
    for (let i = 0; i < 200; i++) {
      const id = ulid();
      expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(messageIdSchema.safeParse(id).success).toBe(true);
    }
  });

  it('encodes the clock in the first 10 characters', () => {
    for (const time of [0, 1, 1_700_000_000_000, 2 ** 48 - 1]) {
      const id = createUlidFactory(() => time)();
      expect(decodeTime(id)).toBe(time);
      expect(messageIdSchema.safeParse(id).success).toBe(true);
    }
    const before = Date.now();
    const time = decodeTime(ulid());
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });

  it('stays strictly increasing within one millisecond', () => {
    const next = createUlidFactory(() => 1_700_000_000_000);
    const ids = Array.from({ length: 10_000 }, () => next());
    expect(new Set(ids).size).toBe(10_000);
    expect(firstOutOfOrder(ids)).toBe(-1);
    for (const id of ids) expect(id.slice(0, 10)).toBe(ids[0]?.slice(0, 10));
  });

  it('stays sorted when the clock advances, stalls or goes backwards', () => {
    const times = [1000, 1000, 1001, 1001, 999, 500, 1001, 1002, 1002, 2000, 1500];
    let call = 0;
    const next = createUlidFactory(() => times[call++ % times.length] ?? 0);
    const ids = Array.from({ length: 10_000 }, () => next());
    expect(new Set(ids).size).toBe(10_000);
    expect(firstOutOfOrder(ids)).toBe(-1);
    // The clock never moves an id's time backwards.
    expect(decodeTime(ids[5] as string)).toBe(1001);
  });

  it('starts a fresh random part in a new millisecond', () => {
    let time = 1000;
    const next = createUlidFactory(() => time);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      time += 1;
      seen.add(next().slice(10));
    }
    // Incrementing the previous random part would make 50 near-identical suffixes.
    expect(seen.size).toBe(50);
    const prefixes = new Set([...seen].map((random) => random.slice(0, 8)));
    expect(prefixes.size).toBeGreaterThan(40);
  });

  it('makes unique ids across factories', () => {
    const a = createUlidFactory(() => 5);
    const b = createUlidFactory(() => 5);
    const ids = new Set(Array.from({ length: 1000 }, (_, i) => (i % 2 ? a() : b())));
    expect(ids.size).toBe(1000);
  });
});
