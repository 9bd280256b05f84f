/**
 * Presence port: who is subscribed to which room, counted as distinct users across every chat
 * server. A user with two tabs joins twice and counts once until both have left.
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
