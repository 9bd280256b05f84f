import type { Presence, PresenceChange } from './presence.js';

/** Presence of a single process: per room, each user's number of open subscriptions. */
export function createMemoryPresence(): Presence {
  const rooms = new Map<string, Map<string, number>>();

  const change = (roomId: string, userId: string, delta: 1 | -1): PresenceChange => {
    let users = rooms.get(roomId);
    if (!users) {
      users = new Map();
      rooms.set(roomId, users);
    }
    const before = users.size;
    const subscriptions = (users.get(userId) ?? 0) + delta;
    if (subscriptions > 0) users.set(userId, subscriptions);
    else users.delete(userId);
    if (users.size === 0) rooms.delete(roomId);
    return { online: users.size, changed: users.size !== before };
  };

  return {
    async join(roomId, userId) {
      return change(roomId, userId, 1);
    },
    async leave(roomId, userId) {
      return change(roomId, userId, -1);
    },
    async count(roomIds) {
      return new Map(roomIds.map((id) => [id, rooms.get(id)?.size ?? 0]));
    },
    async close() {
      rooms.clear();
    },
  };
}
