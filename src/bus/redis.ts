import type { Redis } from 'ioredis';
import { UnavailableError } from '../domain/errors.js';
import { BUS_TIMING } from '../limits.js';
import { messageOf, quit, RedisConnection, type RedisTarget } from '../redis/connection.js';
import { roomKey } from '../redis/keys.js';
import type { EventBus, RoomBroadcast, RoomListener, RoomSignal } from './eventBus.js';

export interface RedisBusOptions {
  /** Prefix of every channel; a room's is `<keyPrefix>{room:<roomId>}:events`. Default `chathub:`. */
  keyPrefix?: string;
  /** Connection trouble and undeliverable broadcasts (bad JSON, a throwing listener). */
  onError?: (error: Error) => void;
  /** A command without a reply after this long rejects (half-open connections). Default 5000. */
  commandTimeoutMs?: number;
}

interface Room {
  readonly roomId: string;
  readonly channel: string;
  /** One entry per subscribe call, so the same function subscribed twice counts twice. */
  readonly listeners: Set<{ readonly listener: RoomListener }>;
  /** Settles when the first SSUBSCRIBE is confirmed; rejects if it failed. */
  first: Promise<void>;
  /** Where the latest SSUBSCRIBE went (in flight or confirmed); null while nowhere. */
  shard: Shard | null;
  /** Confirmed on `shard`, and its connection has not dropped since. */
  live: boolean;
  /** Was live once: when it is live again, listeners hear `resync`. */
  wasLive: boolean;
  /** A (re-)subscription in flight. */
  placing: Promise<void> | null;
  /** The node where the last re-subscription failed: not tried again before the backoff. */
  failedOn: string | null;
}

/** A subscriber connection to the node that serves some of our rooms' channels. */
interface Shard {
  readonly node: string;
  readonly redis: Redis;
  /** Rooms whose latest SSUBSCRIBE went here. */
  readonly rooms: Set<Room>;
  /** Settles once the connection is first up. */
  readonly connected: Promise<void>;
}

/** SSUBSCRIBE attempts that follow a MOVED/ASK reply before giving up until the next retry. */
const REDIRECTS = 3;

/**
 * Redis bus on sharded pub/sub (SSUBSCRIBE/SPUBLISH, Redis 7), the same code on one server and on
 * a Redis Cluster: a room's channel lives on the shard that serves its hash slot, so every shard
 * relays only its own rooms and adding shards adds relay capacity. (On one server, sharded and
 * classic pub/sub behave alike; one code path keeps every Redis test exercising this one.)
 *
 * Publishing goes through the connection's client, which follows the cluster's redirects. For
 * subscribing, this bus holds one connection per node that serves a room with local listeners.
 * Which rooms must be subscribed is ours to know (the rooms map is the truth): a dropped
 * connection, a failover or a slot that moves (the node then drops our subscription with an
 * unsolicited SUNSUBSCRIBE) makes the room lost; it is placed again on whichever node serves it
 * now, retrying with backoff, and its listeners then hear `resync` to read what they missed from
 * the log. Publishes fail fast while Redis is unreachable (no offline queue).
 */
export async function createRedisBus(
  target: RedisTarget,
  options: RedisBusOptions = {},
): Promise<EventBus> {
  const prefix = options.keyPrefix ?? 'chathub:';
  const onError = options.onError ?? (() => {});
  const connection = await RedisConnection.open(
    target,
    { name: 'chathub-bus-pub', onError, commandTimeoutMs: options.commandTimeoutMs },
    'Redis bus',
  );
  try {
    await requireShardedPubSub(connection);
  } catch (error) {
    await connection.quit();
    throw error;
  }

  /** Rooms with local listeners, by channel name. */
  const rooms = new Map<string, Room>();
  const shards = new Map<string, Shard>();
  let closed = false;

  const deliver = (channel: string, signal: RoomSignal) => {
    const room = rooms.get(channel);
    if (!room) return; // Late delivery for a room this process has just left.
    for (const { listener } of room.listeners) {
      try {
        listener(signal);
      } catch (error) {
        onError(new Error(`Redis bus: a listener of ${channel} threw`, { cause: error }));
      }
    }
  };

  const receive = (channel: string, payload: string) => {
    let broadcast: RoomBroadcast;
    try {
      broadcast = JSON.parse(payload) as RoomBroadcast;
    } catch (error) {
      onError(new Error(`Redis bus: undecodable broadcast on ${channel}`, { cause: error }));
      return;
    }
    deliver(channel, broadcast);
  };

  // Re-placing lost rooms: one pass at a time, retried with backoff while any stays lost.
  let reconciling = false;
  /** What the next pass must do; events during a pass ask for another. */
  const wanted = { refresh: false, retry: false, pass: false };
  let retryTimer: NodeJS.Timeout | null = null;
  let retryMs: number = BUS_TIMING.resubscribeMinMs;

  const lose = (room: Room) => {
    room.shard?.rooms.delete(room);
    room.shard = null;
    room.live = false;
  };

  const shardFor = (node: string): Shard => {
    const existing = shards.get(node);
    if (existing) return existing;
    const redis = connection.dedicated(node, 'chathub-bus-sub');
    const shard: Shard = {
      node,
      redis,
      rooms: new Set(),
      connected: redis.connect().catch((error: unknown) => {
        if (shards.get(node) === shard) shards.delete(node);
        redis.disconnect();
        throw error;
      }),
    };
    shard.connected.catch(() => {}); // Whoever placed a room here reports the failure.
    shards.set(node, shard);
    redis.on('error', (error: Error) => onError(error));
    redis.on('smessage', receive);
    // The connection dropped: its subscriptions died with it. (Also where a connection nobody
    // needs any more, say to a failed master, gets closed.)
    redis.on('close', () => {
      for (const room of [...shard.rooms]) lose(room);
      reconcile({ refresh: true });
    });
    // Back (a reconnect): whatever waits for this node may try now.
    redis.on('ready', () => reconcile({ retry: true }));
    // A MOVED reply, or the node dropping our channels of a slot it no longer serves (an
    // unsolicited SUNSUBSCRIBE): the fresh slot map tells which rooms must move.
    redis.on('moved', () => reconcile({ refresh: true }));
    return shard;
  };

  /** Subscribes `room` on the node that serves its channel now. */
  const place = async (room: Room): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const node = connection.nodeOf(room.channel);
      if (!node) throw new Error('no Redis node is known to serve it');
      const shard = shardFor(node);
      await shard.connected;
      if (rooms.get(room.channel) !== room) return; // Left meanwhile.
      lose(room);
      room.shard = shard;
      shard.rooms.add(room);
      try {
        await shard.redis.ssubscribe(room.channel);
      } catch (error) {
        if (room.shard === shard) lose(room);
        if (attempt < REDIRECTS && isRedirect(error)) {
          await connection.refreshTopology();
          continue;
        }
        throw error;
      }
      if (room.shard !== shard) return; // Lost again (the connection dropped); retried later.
      room.live = true;
      if (room.wasLive) deliver(room.channel, { kind: 'resync' });
      room.wasLive = true;
      return;
    }
  };

  /** Re-subscriptions that failed since the last retry: reported once per retry, not per room. */
  let failed: { rooms: number; last: unknown } = { rooms: 0, last: null };

  const replace = (room: Room) => {
    room.placing = place(room)
      .catch((error: unknown) => {
        room.failedOn = connection.nodeOf(room.channel);
        failed = { rooms: failed.rooms + 1, last: error };
      })
      .finally(() => {
        room.placing = null;
        if (room.live) room.failedOn = null;
        if (!room.live && rooms.get(room.channel) === room) retryLater();
        else retryMs = BUS_TIMING.resubscribeMinMs;
      });
  };

  const retryLater = () => {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (failed.rooms > 0) {
        const { rooms: count, last } = failed;
        onError(
          new Error(`Redis bus: ${count} re-subscription(s) failed; retrying`, { cause: last }),
        );
        failed = { rooms: 0, last: null };
      }
      reconcile({ refresh: true, retry: true });
    }, retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, BUS_TIMING.resubscribeMaxMs);
  };

  /**
   * Places every room that is lost or whose slot has moved, and closes connections nobody needs.
   * `refresh` first re-reads the slot map; a room that failed on a node waits for the backoff
   * (`retry`) before it is tried there again, however often connections come and go meanwhile.
   */
  function reconcile({ refresh = false, retry = false } = {}): void {
    if (closed) return;
    wanted.pass = true;
    wanted.refresh ||= refresh;
    wanted.retry ||= retry;
    if (reconciling) return; // The pass under way goes round again.
    reconciling = true;
    void (async () => {
      try {
        while (wanted.pass) {
          const pass = { ...wanted };
          Object.assign(wanted, { refresh: false, retry: false, pass: false });
          if (pass.refresh) await connection.refreshTopology();
          if (closed) return;
          const serving = new Set<string>();
          for (const room of rooms.values()) {
            const node = connection.nodeOf(room.channel);
            if (node) serving.add(node);
            if (room.placing || !room.wasLive) continue;
            if (room.live && room.shard?.node !== node) lose(room);
            if (room.live || (room.failedOn === node && !pass.retry && retryTimer)) continue;
            replace(room);
          }
          for (const shard of shards.values()) {
            if (shard.rooms.size > 0 || serving.has(shard.node)) continue;
            shards.delete(shard.node);
            shard.redis.disconnect();
          }
        }
      } finally {
        reconciling = false;
      }
    })();
  }

  // The cluster client re-reads its slot map on MOVED replies and every few seconds: rooms whose
  // slot moved are placed again even if their node's SUNSUBSCRIBE went astray.
  connection.client.on('refresh', () => reconcile());

  const unsubscribeRoom = (room: Room) => {
    rooms.delete(room.channel);
    const { shard } = room;
    lose(room);
    if (!shard) return;
    // Issued at once, so it reaches the node after our SSUBSCRIBE and before any later one.
    shard.redis.sunsubscribe(room.channel).catch((error: unknown) => {
      // The connection is down (its subscriptions died with it) or the slot moved away (the node
      // dropped it): either way nothing lingers that we would hear.
      if (!isRedirect(error)) {
        onError(new Error(`Redis bus: SUNSUBSCRIBE ${room.channel} failed`, { cause: error }));
      }
    });
  };

  return {
    async subscribe(roomId, listener) {
      if (closed) throw new Error('Redis bus: closed');
      const channel = roomKey(prefix, roomId, 'events');
      let room = rooms.get(channel);
      if (!room) {
        const created: Room = {
          roomId,
          channel,
          listeners: new Set(),
          first: Promise.resolve(),
          shard: null,
          live: false,
          wasLive: false,
          placing: null,
          failedOn: null,
        };
        rooms.set(channel, created);
        created.first = place(created).catch((error: unknown) => {
          // Nobody is subscribed: forget the room so the next subscribe tries again.
          if (rooms.get(channel) === created) unsubscribeRoom(created);
          const detail = `Redis bus: cannot subscribe to room ${roomId}: ${messageOf(error)}`;
          throw new UnavailableError('Chat delivery', new Error(detail, { cause: error }));
        });
        room = created;
      }
      const entry = { listener };
      room.listeners.add(entry);
      try {
        await room.first;
      } catch (error) {
        room.listeners.delete(entry);
        throw error;
      }
      const joined = room;
      let active = true;
      return async () => {
        if (!active) return;
        active = false;
        joined.listeners.delete(entry);
        if (joined.listeners.size > 0 || rooms.get(channel) !== joined || closed) return;
        unsubscribeRoom(joined);
      };
    },

    async publish(roomId, broadcast) {
      if (closed) throw new Error('Redis bus: closed');
      try {
        await connection.client.spublish(
          roomKey(prefix, roomId, 'events'),
          JSON.stringify(broadcast),
        );
      } catch (error) {
        const detail = `Redis bus: cannot publish to room ${roomId}: ${messageOf(error)}`;
        throw new UnavailableError('Chat delivery', new Error(detail, { cause: error }));
      }
    },

    async ping() {
      await connection.ping();
      const lost = [...rooms.values()].filter((room) => room.wasLive && !room.live);
      if (lost.length > 0) {
        throw new Error(
          `Redis bus: ${lost.length} room(s) waiting to re-subscribe (${lost[0]?.roomId}…)`,
        );
      }
      await Promise.all(
        [...shards.values()].filter((shard) => shard.rooms.size > 0).map((s) => s.redis.ping()),
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      rooms.clear();
      const subscribers = [...shards.values()].map((shard) => quit(shard.redis));
      shards.clear();
      await Promise.all([connection.quit(), ...subscribers]);
    },
  };
}

function isRedirect(error: unknown): boolean {
  return /^(MOVED|ASK) /.test(messageOf(error));
}

/** Sharded pub/sub arrived in Redis 7.0; older servers would fail every subscribe. */
async function requireShardedPubSub(connection: RedisConnection): Promise<void> {
  const info = await connection.client.info('server');
  const version = /redis_version:(\d+)\.(\d+)/.exec(info);
  if (version && Number(version[1]) < 7) {
    throw new Error(
      `Redis bus: Redis ${version[1]}.${version[2]} has no sharded pub/sub; ChatHub needs Redis 7.0 or newer`,
    );
  }
}
