import { byName } from './names.js';
import type { Presence, PresenceChange } from './presence.js';

interface Subscriber {
  /** Open subscriptions of the user to the room. */
  subscriptions: number;
  username: string;
}

/** Presence of a single process: per room, each user's number of open subscriptions. */
export function createMemoryPresence(): Presence {
  const rooms = new Map<string, Map<string, Subscriber>>();

  const change = (
    roomId: string,
    userId: string,
    delta: 1 | -1,
    username = userId,
  ): PresenceChange => {
    let users = rooms.get(roomId);
    if (!users) {
      users = new Map();
      rooms.set(roomId, users);
    }
    const before = users.size;
    const subscriptions = (users.get(userId)?.subscriptions ?? 0) + delta;
    if (subscriptions > 0) {
      users.set(userId, { subscriptions, username: users.get(userId)?.username ?? username });
    } else users.delete(userId);
    if (users.size === 0) rooms.delete(roomId);
    return { online: users.size, changed: users.size !== before };
  };

  return {
    async join(roomId, userId, username) {
      return change(roomId, userId, 1, username);
    },
    async leave(roomId, userId) {
      return change(roomId, userId, -1);
    },
    async count(roomIds) {
      return new Map(roomIds.map((id) => [id, rooms.get(id)?.size ?? 0]));
    },
    async users(roomId, max) {
      const users = [...(rooms.get(roomId) ?? [])].map(([id, { username }]) => ({ id, username }));
      return { online: users.length, users: byName(users).slice(0, max) };
    },
    // Nothing expires or is restored in one process: every change is a join or a leave.
    watchDrift: () => () => {},
    async close() {
      rooms.clear();
    },
  };
}
