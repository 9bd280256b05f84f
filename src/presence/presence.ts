/**
 * Presence port: who is subscribed to which room, counted as distinct users across every chat
 * server. A user with two tabs joins twice and counts once until both have left.
 *
 * This server's own subscriptions are the truth; a shared store only mirrors them. So `join` and
 * `leave` change this server's membership even when they reject because the store cannot be
 * reached: the adapter reconciles on its own (its heartbeat restores a join once the store is
 * back; a leave expires within the time-to-live, since nothing refreshes it any more). Callers
 * log the rejection and carry on.
 */
export interface Presence {
  /** Returns the room's online count after the join, and whether it changed. */
  join(roomId: string, userId: string): Promise<PresenceChange>;
  leave(roomId: string, userId: string): Promise<PresenceChange>;
  count(roomIds: readonly string[]): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export interface PresenceChange {
  online: number;
  changed: boolean;
}
