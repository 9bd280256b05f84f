import { Redis } from 'ioredis';
import { UnavailableError } from '../domain/errors.js';
import type { EventBus, RoomBroadcast, RoomListener } from './eventBus.js';

export interface RedisBusOptions {
  /** Prefix of every channel name; channels are `<keyPrefix>room:<roomId>`. Default `chathub:`. */
  keyPrefix?: string;
  /** Connection trouble and undeliverable broadcasts (bad JSON, a throwing listener). */
  onError?: (error: Error) => void;
  /** A command without a reply after this long rejects (half-open connections). Default 5000. */
  commandTimeoutMs?: number;
}

interface Room {
  readonly channel: string;
  /** One entry per subscribe call, so the same function subscribed twice counts twice. */
  readonly listeners: Set<{ readonly listener: RoomListener }>;
  /** Settles when Redis has confirmed the SUBSCRIBE; rejects if it failed. */
  readonly subscribed: Promise<void>;
}

/**
 * Redis pub/sub bus: one channel per room, one publisher and one subscriber connection. A room is
 * SUBSCRIBEd only while it has local listeners. Both connections fail fast while Redis is
 * unreachable (no offline queue) and reconnect on their own; after a reconnect the subscriber
 * re-subscribes exactly the rooms that still have listeners.
 */
export async function createRedisBus(
  url: string,
  options: RedisBusOptions = {},
): Promise<EventBus> {
  const prefix = options.keyPrefix ?? 'chathub:';
  const onError = options.onError ?? (() => {});
  const commandTimeout = options.commandTimeoutMs ?? 5_000;
  const channelOf = (roomId: string) => `${prefix}room:${roomId}`;

  const publisher = connection(url, 'chathub-bus-pub', commandTimeout, onError);
  const subscriber = connection(url, 'chathub-bus-sub', commandTimeout, onError);
  /** Rooms with local listeners, by channel name. */
  const rooms = new Map<string, Room>();
  let closed = false;

  subscriber.on('message', (channel: string, payload: string) => {
    const room = rooms.get(channel);
    if (!room) return; // Late delivery for a room this process has just left.
    let broadcast: RoomBroadcast;
    try {
      broadcast = JSON.parse(payload) as RoomBroadcast;
    } catch (error) {
      onError(new Error(`Redis bus: undecodable broadcast on ${channel}`, { cause: error }));
      return;
    }
    for (const { listener } of room.listeners) {
      try {
        listener(broadcast);
      } catch (error) {
        onError(new Error(`Redis bus: a listener of ${channel} threw`, { cause: error }));
      }
    }
  });

  // Re-subscribe after a reconnect. ioredis' own autoResubscribe is off: it replays the channels
  // Redis had confirmed, which drifts from our listeners when SUBSCRIBE/UNSUBSCRIBE fail while
  // the connection is down. The rooms map is the truth. (Registered before connecting: the first
  // 'ready' is the initial connection, not a reconnect.)
  let connectedOnce = false;
  subscriber.on('ready', () => {
    if (!connectedOnce) {
      connectedOnce = true;
      return;
    }
    const channels = [...rooms.keys()];
    if (channels.length === 0) return;
    subscriber.subscribe(...channels).catch((error: unknown) => {
      onError(new Error('Redis bus: re-subscribing after a reconnect failed', { cause: error }));
      // The connection dropped again; the next 'ready' retries.
    });
  });

  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw new Error(`Redis bus: cannot connect to Redis: ${messageOf(error)}`, { cause: error });
  }

  const unsubscribeChannel = (channel: string) => {
    // Issued synchronously so it reaches Redis before any later SUBSCRIBE of the same channel.
    subscriber.unsubscribe(channel).catch((error: unknown) => {
      // The connection is down: its subscriptions died with it and the reconnect re-subscribes
      // only rooms with listeners. Worst case the channel lingers and its messages are dropped.
      onError(new Error(`Redis bus: UNSUBSCRIBE ${channel} failed`, { cause: error }));
    });
  };

  return {
    async subscribe(roomId, listener) {
      if (closed) throw new Error('Redis bus: closed');
      const channel = channelOf(roomId);
      let room = rooms.get(channel);
      if (!room) {
        const created: Room = {
          channel,
          listeners: new Set(),
          subscribed: subscriber.subscribe(channel).then(
            () => undefined,
            (error: unknown) => {
              // Nobody is subscribed: forget the room so the next subscribe tries again.
              if (rooms.get(channel) === created) rooms.delete(channel);
              const detail = `Redis bus: cannot subscribe to room ${roomId}: ${messageOf(error)}`;
              throw new UnavailableError('Chat delivery', new Error(detail, { cause: error }));
            },
          ),
        };
        rooms.set(channel, created);
        room = created;
      }
      const entry = { listener };
      room.listeners.add(entry);
      try {
        await room.subscribed;
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
        rooms.delete(channel);
        unsubscribeChannel(channel);
      };
    },

    async publish(roomId, broadcast) {
      if (closed) throw new Error('Redis bus: closed');
      try {
        await publisher.publish(channelOf(roomId), JSON.stringify(broadcast));
      } catch (error) {
        const detail = `Redis bus: cannot publish to room ${roomId}: ${messageOf(error)}`;
        throw new UnavailableError('Chat delivery', new Error(detail, { cause: error }));
      }
    },

    async ping() {
      await Promise.all([publisher.ping(), subscriber.ping()]);
    },

    async close() {
      if (closed) return;
      closed = true;
      rooms.clear();
      await Promise.all([quit(publisher), quit(subscriber)]);
    },
  };
}

function connection(
  url: string,
  name: string,
  commandTimeout: number,
  onError: (error: Error) => void,
): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    // Fail fast instead of queueing while Redis is unreachable; in-flight commands are rejected
    // when the connection drops rather than replayed (a replayed PUBLISH could arrive twice).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
    commandTimeout,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  });
  redis.on('error', (error: Error) => onError(error));
  return redis;
}

/** QUIT politely; if Redis is unreachable, just drop the socket. */
async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
