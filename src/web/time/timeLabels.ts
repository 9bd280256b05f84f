/** How message times read: relative while recent, then by day, always exact on demand. */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const weekdayTime = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
});
const dateTime = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});
const fullDateTime = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'short',
});
const exact = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const longDay = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
});
const longDayWithYear = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });

/** Local midnight starting the day of `time`. */
export function startOfDay(time: number): number {
  const date = new Date(time);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

/** Whole local calendar days from the day of `time` to the day of `now` (0: same day). */
function daysBefore(time: number, now: number): number {
  // Rounded: a day with a daylight-saving change is 23 or 25 hours long.
  return Math.round((startOfDay(now) - startOfDay(time)) / (24 * HOUR));
}

const sameYear = (time: number, now: number) =>
  new Date(time).getFullYear() === new Date(now).getFullYear();

/**
 * "just now" under a minute (and for times slightly ahead, from clock skew), "5 min" under an
 * hour, then the time of day today, "yesterday 14:02", the weekday within a week, the date after.
 */
export function relativeTime(time: number, now: number): string {
  const age = now - time;
  if (age < MINUTE) return 'just now';
  if (age < HOUR) return `${Math.floor(age / MINUTE)} min`;
  const days = daysBefore(time, now);
  if (days <= 0) return timeOfDay.format(time);
  if (days === 1) return `yesterday ${timeOfDay.format(time)}`;
  if (days < 7) return weekdayTime.format(time);
  return (sameYear(time, now) ? dateTime : fullDateTime).format(time);
}

/** The exact moment, for a tooltip: "Thursday, 1 January 2026 at 12:30:05". */
export function exactTime(time: number): string {
  return exact.format(time);
}

/** The heading of a day in the message list: "Today", "Yesterday", "Monday, 12 January". */
export function dayLabel(time: number, now: number): string {
  const days = daysBefore(time, now);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return (sameYear(time, now) ? longDay : longDayWithYear).format(time);
}

/** The day of `time` as an ISO date (local), for `<time dateTime>`. */
export function isoDay(time: number): string {
  const date = new Date(time);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
