/**
 * A shared clock for labels that depend on the current time ("5 min", "Today"). It ticks only
 * while something shows such a label, and each label subscribes on its own, so a tick re-renders
 * only the labels whose text changed, never the list around them.
 */
export interface Clock {
  subscribe(onTick: () => void): () => void;
  /** The time of the last tick (stable between ticks, as a store snapshot must be). */
  now(): number;
}

/** Labels change by the minute at the finest; a tick this often keeps them at most this late. */
export const TICK_MS = 10_000;

export function createClock(tickMs = TICK_MS, read = () => Date.now()): Clock {
  const listeners = new Set<() => void>();
  let current = read();
  let timer: ReturnType<typeof setInterval> | undefined;

  const tick = () => {
    current = read();
    for (const listener of listeners) listener();
  };

  return {
    subscribe(onTick) {
      if (listeners.size === 0) {
        // Idle for a while: catch up before the first subscriber reads the time.
        current = read();
        timer = setInterval(tick, tickMs);
      }
      listeners.add(onTick);
      return () => {
        listeners.delete(onTick);
        if (listeners.size === 0) clearInterval(timer);
      };
    },
    now: () => current,
  };
}

export const clock = createClock();
