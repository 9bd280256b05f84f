/** Rejects with "<what>: no answer within <ms> ms" when `promise` has not settled by then. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface OutageWatchOptions {
  /** What is watched, for the timeout's message. */
  what: string;
  intervalMs: number;
  /** A probe without an answer after this long has failed: a dependency that hangs is down. */
  timeoutMs: number;
  /** After each failed probe, with how long the dependency has been down. */
  onFailure?(error: unknown, downForMs: number): void;
  /** After the first probe that succeeds following failures. */
  onRecovery?(downForMs: number): void;
}

export interface OutageWatch {
  /** While the latest probe failed: how long since the dependency last answered. Else 0. */
  downForMs(): number;
  stop(): void;
}

/**
 * Probes a dependency at a steady pace. Once a probe fails, the dependency counts as down since
 * it last answered, so a probe that hangs until its timeout does not hide the time it hung.
 */
export function watchOutage(
  probe: () => Promise<unknown>,
  options: OutageWatchOptions,
): OutageWatch {
  let answeredAt = Date.now();
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const check = async () => {
    try {
      await withTimeout(probe(), options.timeoutMs, options.what);
      if (failing) options.onRecovery?.(Date.now() - answeredAt);
      failing = false;
      answeredAt = Date.now();
    } catch (error) {
      failing = true;
      options.onFailure?.(error, Date.now() - answeredAt);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => check().finally(schedule), options.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    downForMs: () => (failing ? Date.now() - answeredAt : 0),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
