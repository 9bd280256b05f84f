// @vitest-environment jsdom
import { act, cleanup, render, renderHook, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Clock, createClock } from '../../src/web/time/clock.js';
import { RelativeTime, useClockLabel } from '../../src/web/time/RelativeTime.js';
import { relativeTime } from '../../src/web/time/timeLabels.js';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

/** A clock the test moves by hand. */
function manualClock(start: number) {
  let now = start;
  const listeners = new Set<() => void>();
  const clock: Clock = {
    subscribe(onTick) {
      listeners.add(onTick);
      return () => listeners.delete(onTick);
    },
    now: () => now,
  };
  const set = (time: number) =>
    act(() => {
      now = time;
      for (const listener of listeners) listener();
    });
  return { clock, set, listeners };
}

const T0 = Date.UTC(2026, 2, 12, 12, 0);

describe('relative times', () => {
  it('shows the label, with the exact time on hover and an ISO dateTime', () => {
    const { clock } = manualClock(T0 + 5 * 60_000);
    render(<RelativeTime time={T0} clock={clock} />);
    const time = screen.getByText('5 min');
    expect(time.tagName).toBe('TIME');
    expect(time.getAttribute('dateTime')).toBe(new Date(T0).toISOString());
    expect(time.getAttribute('title')).toMatch(/2026/);
  });

  it('re-renders on a tick only when the label changes', () => {
    const { clock, set } = manualClock(T0 + 5 * 60_000);
    let renders = 0;
    const { result } = renderHook(() => {
      renders += 1;
      return useClockLabel(T0, relativeTime, clock);
    });
    expect(result.current).toBe('5 min');
    const settled = renders;
    set(T0 + 5 * 60_000 + 10_000);
    set(T0 + 5 * 60_000 + 50_000);
    expect(renders, 'ticks within the same minute render nothing').toBe(settled);
    set(T0 + 6 * 60_000);
    expect(result.current).toBe('6 min');
    expect(renders).toBe(settled + 1);
  });

  it('ticks only while a label is shown, and catches up when one appears', () => {
    vi.useFakeTimers({ now: T0 });
    const clock = createClock(10_000);
    expect(vi.getTimerCount()).toBe(0);
    vi.setSystemTime(T0 + 3 * 60_000);
    const { unmount } = render(<RelativeTime time={T0} clock={clock} />);
    expect(screen.getByText('3 min')).toBeTruthy();
    expect(vi.getTimerCount()).toBe(1);
    act(() => vi.advanceTimersByTime(60_000));
    expect(screen.getByText('4 min')).toBeTruthy();
    unmount();
    expect(vi.getTimerCount()).toBe(0);
  });
});
