import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/domain/rateLimiter.js';
import { manualClock } from '../helpers/clock.js';

const takeMany = (limiter: RateLimiter, key: string, times: number) =>
  Array.from({ length: times }, () => limiter.tryTake(key));

/** The private bucket map, read to prove memory stays bounded. */
const bucketCount = (limiter: RateLimiter) =>
  (limiter as unknown as { buckets: Map<string, unknown> }).buckets.size;

describe('RateLimiter', () => {
  it('allows a burst, then refuses', () => {
    const time = manualClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 5 }, time.now);
    expect(takeMany(limiter, 'alice', 5)).toEqual([true, true, true, true, true]);
    expect(limiter.tryTake('alice')).toBe(false);
    expect(limiter.tryTake('alice')).toBe(false);
  });

  it('refills at the configured rate', () => {
    const time = manualClock();
    const limiter = new RateLimiter({ perSecond: 2, burst: 4 }, time.now);
    takeMany(limiter, 'alice', 4);
    expect(limiter.tryTake('alice')).toBe(false);

    time.advance(499); // 0.998 tokens
    expect(limiter.tryTake('alice')).toBe(false);
    time.advance(1); // 1 token
    expect(limiter.tryTake('alice')).toBe(true);
    expect(limiter.tryTake('alice')).toBe(false);

    time.advance(1000); // 2 tokens
    expect(takeMany(limiter, 'alice', 3)).toEqual([true, true, false]);
  });

  it('does not let refused attempts cost or earn tokens', () => {
    const time = manualClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, time.now);
    expect(limiter.tryTake('alice')).toBe(true);
    // Steps of 125 ms are exact in binary, so no rounding blurs the boundary.
    for (let i = 0; i < 7; i++) {
      time.advance(125);
      expect(limiter.tryTake('alice')).toBe(false);
    }
    time.advance(125); // one full second since the last success
    expect(limiter.tryTake('alice')).toBe(true);
  });

  it('caps the refill at the burst size', () => {
    const time = manualClock();
    const limiter = new RateLimiter({ perSecond: 10, burst: 3 }, time.now);
    takeMany(limiter, 'alice', 3);
    time.advance(3_600_000);
    expect(takeMany(limiter, 'alice', 4)).toEqual([true, true, true, false]);
  });

  it('keeps callers independent', () => {
    const time = manualClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, time.now);
    expect(takeMany(limiter, 'alice', 3)).toEqual([true, true, false]);
    expect(takeMany(limiter, 'bob', 3)).toEqual([true, true, false]);
    time.advance(1000);
    expect(limiter.tryTake('alice')).toBe(true);
    expect(limiter.tryTake('alice')).toBe(false);
    expect(limiter.tryTake('bob')).toBe(true);
  });

  it('keeps memory bounded by pruning callers whose buckets have refilled', () => {
    const time = manualClock();
    const maxKeys = 100;
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, time.now, maxKeys);
    let largest = 0;
    for (let i = 0; i < 20_000; i++) {
      time.advance(5); // about 200 callers are still refilling at any moment
      expect(limiter.tryTake(`caller-${i}`)).toBe(true);
      largest = Math.max(largest, bucketCount(limiter));
    }
    expect(largest).toBeLessThanOrEqual(2 * maxKeys + 1);
  });

  it('never prunes a caller that is still limited', () => {
    const time = manualClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, time.now, 10);
    takeMany(limiter, 'spammer', 2);
    expect(limiter.tryTake('spammer')).toBe(false);
    time.advance(400);
    // Enough new callers to trigger pruning several times.
    for (let i = 0; i < 50; i++) expect(limiter.tryTake(`caller-${i}`)).toBe(true);
    expect(limiter.tryTake('spammer')).toBe(false);
    time.advance(600);
    expect(takeMany(limiter, 'spammer', 2)).toEqual([true, false]);
  });

  it('takes a refunded token back, so an attempt that did not count costs nothing', () => {
    const time = manualClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, time.now);
    expect(takeMany(limiter, 'alice', 2)).toEqual([true, true]);
    limiter.refund('alice');
    expect(takeMany(limiter, 'alice', 2)).toEqual([true, false]);
  });

  it('reserves: of concurrent attempts only as many as the bucket holds get through', () => {
    const time = manualClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 3 }, time.now);
    // Five attempts reserve before any of them settles; three may proceed.
    const reserved = takeMany(limiter, 'alice', 5);
    expect(reserved).toEqual([true, true, true, false, false]);
    // Two of the three turn out not to count and give their token back.
    limiter.refund('alice');
    limiter.refund('alice');
    expect(takeMany(limiter, 'alice', 3)).toEqual([true, true, false]);
  });

  it('never refunds past the burst, also after a refill', () => {
    const time = manualClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, time.now);
    limiter.tryTake('alice');
    time.advance(5_000); // refilled to the burst meanwhile
    limiter.refund('alice');
    limiter.refund('bob'); // never took anything: nothing to give back
    expect(takeMany(limiter, 'alice', 3)).toEqual([true, true, false]);
    expect(takeMany(limiter, 'bob', 3)).toEqual([true, true, false]);
  });

  it('counts refill from the refund on, without losing the fraction already refilled', () => {
    const time = manualClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, time.now);
    takeMany(limiter, 'alice', 2);
    time.advance(500); // half a token refilled
    limiter.refund('alice'); // 1.5 tokens
    expect(limiter.tryTake('alice')).toBe(true); // 0.5 left
    expect(limiter.tryTake('alice')).toBe(false);
    time.advance(500);
    expect(limiter.tryTake('alice')).toBe(true);
  });
});
