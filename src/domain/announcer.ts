import type { EventBus } from '../bus/eventBus.js';
import type { LoggedEntry } from '../storage/store.js';

/**
 * Tells a room about an entry already stored. A failed publish does not fail the request: the
 * entry is safe in the log, and members receive it when their chat server fills the gap (at the
 * room's next entry) or when they resume.
 */
export class Announcer {
  constructor(
    private readonly bus: EventBus,
    private readonly onPublishError: (error: unknown) => void = () => {},
  ) {}

  /** Publishes `entry`; nothing for a write that logged nothing (null). */
  async announce(roomId: string, entry: LoggedEntry | null): Promise<void> {
    if (!entry) return;
    try {
      await this.bus.publish(roomId, { kind: 'logged', ...entry });
    } catch (error) {
      this.onPublishError(error);
    }
  }
}
