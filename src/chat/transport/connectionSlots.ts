/**
 * Counts open connections per key (a client address, a user) against a cap. A key's entry lives
 * only while it holds connections, so memory follows what is open, not what was ever seen.
 */
export class ConnectionSlots {
  private readonly held = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Takes a slot for `key`: the function returned gives it back (once), or null when full. */
  tryTake(key: string): (() => void) | null {
    const count = this.held.get(key) ?? 0;
    if (count >= this.max) return null;
    this.held.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(key) ?? 1) - 1;
      if (left > 0) this.held.set(key, left);
      else this.held.delete(key);
    };
  }
}
