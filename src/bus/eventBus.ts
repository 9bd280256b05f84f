import type { LoggedEvent } from '../contract/events.js';
import type { PublicUser } from '../contract/models.js';

/** What travels between chat servers about one room. */
export type RoomBroadcast =
  | { kind: 'logged'; seq: number; event: LoggedEvent }
  /** `users`: the first `LIMITS.presenceNamesMax` of them (servers before names sent none). */
  | { kind: 'presence'; online: number; users?: PublicUser[] }
  /** `user` is typing (never logged: each server shows it until it expires). */
  | { kind: 'typing'; user: PublicUser };

/**
 * What a listener hears: its room's broadcasts, and `resync` when the bus may have missed some
 * (its subscription was lost, by a Redis failover, a slot move or a dropped connection, and is
 * back): whatever was logged meanwhile is in the room's log.
 */
export type RoomSignal = RoomBroadcast | { kind: 'resync' };

export type RoomListener = (signal: RoomSignal) => void;

/**
 * Pub/sub port: one channel per room. Listeners of a room see its broadcasts in publish order.
 * A process subscribes only to rooms that have members on it.
 */
export interface EventBus {
  subscribe(roomId: string, listener: RoomListener): Promise<() => Promise<void>>;
  publish(roomId: string, broadcast: RoomBroadcast): Promise<void>;
  /** Resolves when the bus can deliver (its server answers); rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
