import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TypingRoster } from '../../src/fanout/typingRoster.js';

const ada = { id: 'ada', username: 'ada' };
const bob = { id: 'bob', username: 'bob' };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TypingRoster', () => {
  it('shows each typist until the time to live after their latest signal', async () => {
    const expired = vi.fn();
    const roster = new TypingRoster(5_000, expired);
    roster.typed(ada);
    await vi.advanceTimersByTimeAsync(3_000);
    roster.typed(bob);
    roster.typed(ada); // renewed: now the newest
    expect(roster.users()).toEqual([bob, ada]);

    await vi.advanceTimersByTimeAsync(4_999);
    expect(roster.users()).toEqual([bob, ada]);
    expect(expired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(roster.users()).toEqual([]);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('drops a typist whose message arrived, without announcing an expiry', async () => {
    const expired = vi.fn();
    const roster = new TypingRoster(5_000, expired);
    roster.typed(ada);
    roster.typed(bob);
    expect(roster.stopped('ada')).toBe(true);
    expect(roster.stopped('ada')).toBe(false);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(roster.users()).toEqual([]);
  });

  it('stops its timer when closed', async () => {
    const expired = vi.fn();
    const roster = new TypingRoster(5_000, expired);
    roster.typed(ada);
    roster.close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(expired).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
