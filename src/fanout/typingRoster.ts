import type { PublicUser } from '../contract/models.js';

/**
 * Who is typing in one room on this chat server: each person from their latest signal until
 * `ttlMs` after it, or until their message arrives. Each chat server keeps its own from the
 * signals every server publishes, so the roster is the same everywhere.
 */
export class TypingRoster {
  private readonly typists = new Map<string, { user: PublicUser; until: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ttlMs: number,
    /** Called when someone drops out because their signal expired. */
    private readonly onExpired: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Oldest signal first. */
  users(): PublicUser[] {
    return [...this.typists.values()].map(({ user }) => user);
  }

  typed(user: PublicUser): void {
    this.typists.delete(user.id);
    this.typists.set(user.id, { user, until: this.now() + this.ttlMs });
    if (!this.timer) this.schedule();
  }

  /** Their message arrived: they are done typing it. Returns whether they were typing. */
  stopped(userId: string): boolean {
    return this.typists.delete(userId);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.typists.clear();
  }

  private schedule(): void {
    const first = Math.min(...[...this.typists.values()].map(({ until }) => until));
    if (!Number.isFinite(first)) return;
    this.timer = setTimeout(() => this.expire(), Math.max(0, first - this.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = null;
    const at = this.now();
    let expired = false;
    for (const [id, { until }] of this.typists) {
      if (until > at) continue;
      this.typists.delete(id);
      expired = true;
    }
    this.schedule();
    if (expired) this.onExpired();
  }
}
