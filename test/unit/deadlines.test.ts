import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue, MAX_TIMER_MS, type Sleeper } from '../../src/chat/transport/deadlines.js';

const DAY_MS = 86_400_000;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A sleeper that records when it was woken and may schedule itself again. */
class Recorder implements Sleeper {
  wakeAt = Number.POSITIVE_INFINITY;
  queueIndex = -1;
  readonly woken: number[] = [];
  constructor(private readonly again?: (now: number) => number | null) {}
  queue: DeadlineQueue<Recorder> | null = null;
  wake(now: number): void {
    this.woken.push(now);
    const next = this.again?.(now);
    if (next != null) this.queue?.schedule(this, next);
  }
}

describe('DeadlineQueue', () => {
  it.each([
    ['an hour', 3_600_000],
    ['just past what one setTimeout can wait', MAX_TIMER_MS + 1],
    ['30 days (a JWT_TTL of 30d)', 30 * DAY_MS],
    ['a year', 365 * DAY_MS],
  ])('wakes at the deadline, never before: %s away', (_, delay) => {
    const queue = new DeadlineQueue<Recorder>();
    const sleeper = new Recorder();
    const at = Date.now() + delay;
    queue.schedule(sleeper, at);
    vi.advanceTimersByTime(delay - 1);
    expect(sleeper.woken).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sleeper.woken).toEqual([at]);
    vi.advanceTimersByTime(10 * MAX_TIMER_MS);
    expect(sleeper.woken).toHaveLength(1);
  });

  it('wakes soon, but not synchronously, for a deadline already past', () => {
    const queue = new DeadlineQueue<Recorder>();
    const sleeper = new Recorder();
    queue.schedule(sleeper, Date.now() - 1_000);
    expect(sleeper.woken).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(sleeper.woken).toHaveLength(1);
  });

  it('wakes many sleepers in deadline order on one timer, whatever order they came in', () => {
    const queue = new DeadlineQueue<Recorder>();
    const order: number[] = [];
    const start = Date.now();
    const offsets = Array.from({ length: 200 }, (_, i) => ((i * 7919) % 200) * 10 + 10);
    for (const offset of offsets) {
      const sleeper = new Recorder();
      sleeper.wake = () => order.push(offset);
      queue.schedule(sleeper, start + offset);
    }
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(3_000);
    expect(order).toEqual([...offsets].sort((a, b) => a - b));
    expect(queue.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('moves a deadline earlier or later, and never wakes a cancelled sleeper', () => {
    const queue = new DeadlineQueue<Recorder>();
    const [early, late, cancelled] = [new Recorder(), new Recorder(), new Recorder()];
    const start = Date.now();
    queue.schedule(early, start + 1_000);
    queue.schedule(late, start + 2_000);
    queue.schedule(cancelled, start + 30 * DAY_MS);
    queue.schedule(early, start + 3_000);
    queue.schedule(late, start + 500);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    queue.cancel(cancelled);
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(late.woken).toEqual([start + 500]);
    expect(early.woken).toEqual([start + 3_000]);
    expect(cancelled.woken).toEqual([]);
  });

  it('lets a sleeper schedule itself again from its wake (a keep-alive)', () => {
    const queue = new DeadlineQueue<Recorder>();
    const sleeper = new Recorder((now) => now + 1_000);
    sleeper.queue = queue;
    const start = Date.now();
    queue.schedule(sleeper, start + 1_000);
    vi.advanceTimersByTime(3_500);
    expect(sleeper.woken).toEqual([start + 1_000, start + 2_000, start + 3_000]);
  });

  it('keeps at most one timer pending, and none once empty', () => {
    const queue = new DeadlineQueue<Recorder>();
    const sleepers = Array.from({ length: 50 }, () => new Recorder());
    for (const [i, sleeper] of sleepers.entries())
      queue.schedule(sleeper, Date.now() + (i + 1) * DAY_MS * 2);
    for (let step = 0; step < 5; step++) {
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(MAX_TIMER_MS);
    }
    for (const sleeper of sleepers) queue.cancel(sleeper);
    expect(vi.getTimerCount()).toBe(0);
  });
});
