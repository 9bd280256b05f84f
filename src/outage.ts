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
  /** How long the probes have been failing in a row (from the first of them); 0 while it answers. */
  downForMs(): number;
  stop(): void;
}

/** Probes a dependency at a steady pace and remembers since when it has been failing. */
export function watchOutage(
  probe: () => Promise<unknown>,
  options: OutageWatchOptions,
): OutageWatch {
  let downSince: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const check = async () => {
    try {
      await withTimeout(probe(), options.timeoutMs, options.what);
      if (downSince !== null) options.onRecovery?.(Date.now() - downSince);
      downSince = null;
    } catch (error) {
      downSince ??= Date.now();
      options.onFailure?.(error, Date.now() - downSince);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => check().finally(schedule), options.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    downForMs: () => (downSince === null ? 0 : Date.now() - downSince),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
