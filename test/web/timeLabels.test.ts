import { describe, expect, it } from 'vitest';
import { dayLabel, exactTime, isoDay, relativeTime } from '../../src/web/time/timeLabels.js';

/** Local wall-clock times, whatever the machine's time zone. */
const at = (day: number, hour: number, minute: number, second = 0) =>
  new Date(2026, 2, day, hour, minute, second).getTime();
const hhmm = (time: number) =>
  new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' }).format(time);

describe('message time labels', () => {
  const now = at(12, 15, 30);

  it('reads "just now" under a minute, also for a time slightly ahead (clock skew)', () => {
    expect(relativeTime(now, now)).toBe('just now');
    expect(relativeTime(now - 59_999, now)).toBe('just now');
    expect(relativeTime(now + 5_000, now)).toBe('just now');
  });

  it('counts minutes under an hour', () => {
    expect(relativeTime(now - 60_000, now)).toBe('1 min');
    expect(relativeTime(now - 5 * 60_000 - 30_000, now)).toBe('5 min');
    expect(relativeTime(now - 59 * 60_000, now)).toBe('59 min');
  });

  it('then gives the time of day today, "yesterday 14:02", the weekday, the date', () => {
    expect(relativeTime(at(12, 9, 5), now)).toBe(hhmm(at(12, 9, 5)));
    expect(relativeTime(at(11, 14, 2), now)).toBe(`yesterday ${hhmm(at(11, 14, 2))}`);
    // Just before midnight is yesterday even when it was only two hours ago.
    expect(relativeTime(at(11, 23, 59), at(12, 1, 30))).toBe(`yesterday ${hhmm(at(11, 23, 59))}`);
    const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'short' }).format(at(8, 10, 0));
    expect(relativeTime(at(8, 10, 0), now)).toContain(weekday);
    const older = relativeTime(at(1, 10, 0), now);
    expect(older).toContain(new Intl.DateTimeFormat(undefined, { month: 'short' }).format(now));
    expect(older).not.toContain('2026');
    expect(relativeTime(new Date(2025, 11, 31, 10).getTime(), now)).toContain('2025');
  });

  it('heads each day: Today, Yesterday, then the date', () => {
    expect(dayLabel(at(12, 0, 0), now)).toBe('Today');
    expect(dayLabel(at(11, 23, 59), now)).toBe('Yesterday');
    const label = dayLabel(at(2, 10, 0), now);
    expect(label).toContain(
      new Intl.DateTimeFormat(undefined, { weekday: 'long' }).format(at(2, 10, 0)),
    );
    expect(label).not.toContain('2026');
    expect(dayLabel(new Date(2025, 5, 1).getTime(), now)).toContain('2025');
  });

  it('gives the exact moment with seconds, and the local day as an ISO date', () => {
    expect(exactTime(at(12, 15, 30, 7))).toMatch(/07/);
    expect(isoDay(at(2, 23, 59))).toBe('2026-03-02');
  });
});
