/** Conditions that tests wait on; `notify()` re-checks them when something arrives. */
export class Waiters {
  private readonly pending = new Set<() => void>();

  async until(condition: () => boolean, describe: () => string, timeoutMs = 5_000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(check);
        reject(new Error(`timed out waiting for ${describe()}`));
      }, timeoutMs);
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.pending.delete(check);
        resolve();
      };
      this.pending.add(check);
    });
  }

  notify(): void {
    for (const check of [...this.pending]) check();
  }
}

/** Polls `condition` until it holds or the time is up (then the caller's assertions report what is missing). */
export async function pollUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
