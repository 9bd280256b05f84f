import { useSyncExternalStore } from 'react';
import { type Clock, clock as sharedClock } from './clock.js';
import { dayLabel, exactTime, isoDay, relativeTime } from './timeLabels.js';

/**
 * A label computed from a time and the clock. React compares the label between ticks and
 * re-renders only when it changes ("4 min" → "5 min"), so a tick costs nothing elsewhere.
 */
export function useClockLabel(
  time: number,
  label: (time: number, now: number) => string,
  clock: Clock = sharedClock,
): string {
  return useSyncExternalStore(clock.subscribe, () => label(time, clock.now()));
}

/** "5 min", "yesterday 14:02"…, with the exact time on hover and for machines. */
export function RelativeTime({ time, clock }: { time: number; clock?: Clock }) {
  const label = useClockLabel(time, relativeTime, clock);
  return (
    <time dateTime={new Date(time).toISOString()} title={exactTime(time)}>
      {label}
    </time>
  );
}

/** "Today", "Yesterday", "Monday, 12 January": the heading of a day. */
export function DayLabel({ time, clock }: { time: number; clock?: Clock }) {
  const label = useClockLabel(time, dayLabel, clock);
  return <time dateTime={isoDay(time)}>{label}</time>;
}
