/** The longest delay `setTimeout` honours; a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Deadline {
  cancel(): void;
}

/**
 * Calls `fire` once, at `at` (epoch ms) or as soon as possible after, however far away that is:
 * a session of a month outlives one `setTimeout`, so the wait is chained in steps it can take.
 */
export function callAt(at: number, fire: () => void): Deadline {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    timer = setTimeout(check, Math.min(Math.max(at - Date.now(), 0), MAX_TIMER_MS));
  };
  const check = () => (Date.now() >= at ? fire() : schedule());
  schedule();
  return { cancel: () => clearTimeout(timer) };
}
