import type { PublicUser } from '../contract/models.js';

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
  /**
   * Returns the room's online count after the join, and whether it changed. `username` is how
   * `users` lists them (their id when none is given).
   */
  join(roomId: string, userId: string, username?: string): Promise<PresenceChange>;
  leave(roomId: string, userId: string): Promise<PresenceChange>;
  count(roomIds: readonly string[]): Promise<Map<string, number>>;
  /** The room's distinct users: how many, and the first `max` of them in name order. */
  users(roomId: string, max: number): Promise<RoomUsers>;
  /**
   * Counts also change with no join or leave through any hub: the members of a server that
   * stopped heartbeating expire, and a heartbeat restores members the store had lost. `listener`
   * hears of each room in which this process saw that happen, so that its count is announced.
   * Returns the function that stops listening.
   */
  watchDrift(listener: (roomId: string) => void): () => void;
  close(): Promise<void>;
}

export interface RoomUsers {
  online: number;
  users: PublicUser[];
}

export interface PresenceChange {
  online: number;
  changed: boolean;
}
