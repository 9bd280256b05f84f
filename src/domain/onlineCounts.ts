import type { Presence } from '../presence/presence.js';

export interface OnlineCountsOptions {
  /** How long a count is served before it is read again. */
  ttlMs: number;
  /** Counts kept at most; the oldest read goes first. */
  maxRooms: number;
}

/**
 * Online counts for the room directory, each read from presence at most once per `ttlMs` per
 * process. Everyone browsing the directory refreshes the same first pages every few seconds;
 * without this, each refresh would count every room on its page in Redis again.
 */
export class OnlineCounts {
  private readonly counts = new Map<string, { online: number; at: number }>();

  constructor(
    private readonly presence: Pick<Presence, 'count'>,
    private readonly options: OnlineCountsOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The rooms' counts; rejects when presence is unreachable and some count is not fresh. */
  async of(roomIds: readonly string[]): Promise<Map<string, number>> {
    const now = this.now();
    const result = new Map<string, number>();
    const stale: string[] = [];
    for (const roomId of roomIds) {
      const known = this.counts.get(roomId);
      if (known && now - known.at < this.options.ttlMs) result.set(roomId, known.online);
      else stale.push(roomId);
    }
    if (stale.length === 0) return result;
    const read = await this.presence.count(stale);
    for (const [roomId, online] of read) {
      result.set(roomId, online);
      this.remember(roomId, online, now);
    }
    return result;
  }

  private remember(roomId: string, online: number, at: number): void {
    // Re-inserted, so that Map order is the order of reads and the first key the oldest.
    this.counts.delete(roomId);
    this.counts.set(roomId, { online, at });
    if (this.counts.size > this.options.maxRooms) {
      const oldest = this.counts.keys().next().value;
      if (oldest !== undefined) this.counts.delete(oldest);
    }
  }
}
