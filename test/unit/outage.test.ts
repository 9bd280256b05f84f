import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchOutage, withTimeout } from '../../src/outage.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const never = () => new Promise<never>(() => {});

describe('withTimeout', () => {
  it('passes an answer through, and turns silence into an error naming what was asked', async () => {
    await expect(withTimeout(Promise.resolve('pong'), 1_000, 'storage')).resolves.toBe('pong');
    const silent = withTimeout(never(), 1_000, 'storage');
    const outcome = expect(silent).rejects.toThrow('storage: no answer within 1000 ms');
    await vi.advanceTimersByTimeAsync(1_000);
    await outcome;
  });
});

describe('watchOutage', () => {
  it('counts a hanging dependency as down since it last answered, and up again when it answers', async () => {
    let answering = true;
    const failures: number[] = [];
    const recoveries: number[] = [];
    const watch = watchOutage(() => (answering ? Promise.resolve() : never()), {
      what: 'storage',
      intervalMs: 1_000,
      timeoutMs: 2_000,
      onFailure: (_error, downForMs) => failures.push(downForMs),
      onRecovery: (downForMs) => recoveries.push(downForMs),
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(watch.downForMs()).toBe(0);

    answering = false;
    // The next probe starts 1 s after the last answer and hangs for its 2 s timeout.
    await vi.advanceTimersByTimeAsync(3_000);
    expect(failures).toEqual([3_000]);
    expect(watch.downForMs()).toBe(3_000);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(failures).toEqual([3_000, 6_000]);

    answering = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(recoveries).toEqual([7_000]);
    expect(watch.downForMs()).toBe(0);
    watch.stop();
  });
});
