import { afterEach, describe, expect, it, vi } from 'vitest';
import { oncePerInterval } from '../../src/redis/connection.js';

describe('oncePerInterval (a cluster node’s repeated connection errors)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes on the first error of each node, then one per interval', () => {
    vi.useFakeTimers();
    const reported: string[] = [];
    const report = oncePerInterval(5_000, (error) => reported.push(error.message));
    report('a:1', new Error('a refused 1'));
    report('a:1', new Error('a refused 2'));
    report('b:2', new Error('b refused 1'));
    vi.advanceTimersByTime(4_999);
    report('a:1', new Error('a refused 3'));
    vi.advanceTimersByTime(1);
    report('a:1', new Error('a refused 4'));
    report('a:1', new Error('a refused 5'));
    expect(reported).toEqual(['a refused 1', 'b refused 1', 'a refused 4']);
  });
});
