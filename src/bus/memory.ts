import type { EventBus, RoomBroadcast, RoomListener } from './eventBus.js';

/** In-process bus for a single server (ROLE=all without REDIS_URL or REDIS_CLUSTER_NODES). */
export function createMemoryBus(): EventBus {
  const rooms = new Map<string, Set<RoomListener>>();
  return {
    async subscribe(roomId, listener) {
      let listeners = rooms.get(roomId);
      if (!listeners) {
        listeners = new Set();
        rooms.set(roomId, listeners);
      }
      listeners.add(listener);
      let subscribed = true;
      return async () => {
        if (!subscribed) return;
        subscribed = false;
        listeners.delete(listener);
        if (listeners.size === 0 && rooms.get(roomId) === listeners) rooms.delete(roomId);
      };
    },
    async publish(roomId, broadcast: RoomBroadcast) {
      for (const listener of rooms.get(roomId) ?? []) listener(broadcast);
    },
    async ping() {},
    async close() {
      rooms.clear();
    },
  };
}
