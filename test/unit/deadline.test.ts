import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { callAt, MAX_TIMER_MS } from '../../src/chat/deadline.js';

const DAY_MS = 86_400_000;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('callAt', () => {
  it.each([
    ['an hour', 3_600_000],
    ['just past what one setTimeout can wait', MAX_TIMER_MS + 1],
    ['30 days (a JWT_TTL of 30d)', 30 * DAY_MS],
    ['a year', 365 * DAY_MS],
  ])('fires at the deadline, never before: %s away', (_, delay) => {
    const fire = vi.fn();
    callAt(Date.now() + delay, fire);
    vi.advanceTimersByTime(delay - 1);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10 * MAX_TIMER_MS);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('fires soon, but not synchronously, for a deadline already past', () => {
    const fire = vi.fn();
    callAt(Date.now() - 1_000, fire);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('never fires once cancelled, however long the wait was', () => {
    const fire = vi.fn();
    const deadline = callAt(Date.now() + 30 * DAY_MS, fire);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    deadline.cancel();
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(fire).not.toHaveBeenCalled();
  });

  it('keeps at most one timer pending while it waits', () => {
    callAt(Date.now() + 100 * DAY_MS, () => {});
    for (let step = 0; step < 5; step++) {
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(MAX_TIMER_MS);
    }
  });
});
