import type { Result } from 'ioredis';
import { DomainError, UnavailableError } from '../domain/errors.js';
import { messageOf, RedisConnection, type RedisTarget } from '../redis/connection.js';
import type { Discovery } from './discovery.js';

/*
 * Every chat server keeps `<keyPrefix>{discovery}:server:<serverId>` alive with SET … PX ttl on
 * each heartbeat, holding its public URL and current connection count, and adds its id to the set
 * `<keyPrefix>{discovery}:servers`. Discovery reads the set and the keys in one script, which also
 * drops ids whose key has expired: a server that stops heartbeating disappears after ttlMs.
 *
 * On a Redis Cluster the `{discovery}` hash tag keeps the whole registry on one slot, on purpose:
 * the script reads it atomically and registration is one MULTI, which a cluster allows only within
 * one slot. The registry is one small key per chat server, written every few seconds and read at
 * sign-in and reconnect, so one shard carries it easily; rooms, the heavy traffic, spread by slot.
 */

export interface RedisDiscoveryOptions {
  /** Default `chathub:`. */
  keyPrefix?: string;
  onError?: (error: Error) => void;
  /** A command without a reply after this long rejects (half-open connections). Default 5000. */
  commandTimeoutMs?: number;
}

export interface ChatServerRegistration {
  /** The WebSocket URL clients use to reach this server. */
  publicUrl: string;
  serverId: string;
  /** This server's current number of client connections (its load). */
  connections: () => number;
  /** Default 15000. */
  ttlMs?: number;
  /** Default 5000; must be below ttlMs. */
  heartbeatMs?: number;
  keyPrefix?: string;
  /** Failed heartbeats. */
  onError?: (error: Error) => void;
  commandTimeoutMs?: number;
}

export interface ChatServerHandle {
  /**
   * Re-announces the load shortly (coalescing bursts), so that discovery sees a change of
   * connections before the next heartbeat and a wave of sign-ins spreads across servers.
   */
  loadChanged(): void;
  /** Stops the heartbeat and removes this server from discovery at once. */
  deregister(): Promise<void>;
}

interface ServerRecord {
  serverId: string;
  publicUrl: string;
  connections: number;
}

/** KEYS[1]: the id set; ARGV[1]: the server key prefix. Returns the records of live servers. */
const LIVE_SERVERS = `
local ids = redis.call('SMEMBERS', KEYS[1])
local live = {}
for _, id in ipairs(ids) do
  local record = redis.call('GET', ARGV[1] .. id)
  if record then table.insert(live, record) else redis.call('SREM', KEYS[1], id) end
end
return live
`;

/** Connection changes within this window go out as one load update. */
const LOAD_UPDATE_DELAY_MS = 50;

const keys = (prefix: string) => ({
  servers: `${prefix}{discovery}:servers`,
  serverPrefix: `${prefix}{discovery}:server:`,
});

declare module 'ioredis' {
  interface RedisCommander<Context> {
    liveServers(key: string, serverPrefix: string): Result<string[], Context>;
  }
}

/** Announces this chat server until deregistered; resolves once it is discoverable. */
export async function registerChatServer(
  target: RedisTarget,
  registration: ChatServerRegistration,
): Promise<ChatServerHandle> {
  const { serverId, publicUrl } = registration;
  const ttlMs = registration.ttlMs ?? 15_000;
  const heartbeatMs = registration.heartbeatMs ?? 5_000;
  const onError = registration.onError ?? (() => {});
  if (!serverId) throw new Error('Redis discovery: serverId must be non-empty');
  if (!(heartbeatMs > 0 && ttlMs > heartbeatMs)) {
    throw new Error(`Redis discovery: need 0 < heartbeatMs (${heartbeatMs}) < ttlMs (${ttlMs})`);
  }
  const { servers, serverPrefix } = keys(registration.keyPrefix ?? 'chathub:');
  const key = `${serverPrefix}${serverId}`;

  const connection = await RedisConnection.open(
    target,
    {
      name: `chathub-registration-${serverId}`,
      onError,
      commandTimeoutMs: registration.commandTimeoutMs,
    },
    'Redis discovery',
  );
  const redis = connection.client;

  const announce = async () => {
    const record: ServerRecord = {
      serverId,
      publicUrl,
      connections: registration.connections(),
    };
    // The id is re-added every time, healing a discovery read that dropped it while our key had
    // briefly expired (e.g. across a Redis outage).
    const results = await redis
      .multi()
      .set(key, JSON.stringify(record), 'PX', ttlMs)
      .sadd(servers, serverId)
      .exec();
    const failed = results?.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  };

  try {
    await announce();
  } catch (error) {
    redis.disconnect();
    throw new Error(`Redis discovery: cannot register ${serverId}: ${messageOf(error)}`, {
      cause: error,
    });
  }

  let active = true;
  let beating = false;
  const timer = setInterval(async () => {
    if (beating || !active) return;
    beating = true;
    try {
      await announce();
    } catch (error) {
      onError(
        new Error(`Redis discovery: heartbeat failed: ${messageOf(error)}`, { cause: error }),
      );
    } finally {
      beating = false;
    }
  }, heartbeatMs);
  timer.unref();

  let loadTimer: NodeJS.Timeout | null = null;
  return {
    loadChanged() {
      if (!active || loadTimer) return;
      loadTimer = setTimeout(() => {
        loadTimer = null;
        if (!active) return;
        announce().catch((error: unknown) =>
          onError(
            new Error(`Redis discovery: load update failed: ${messageOf(error)}`, { cause: error }),
          ),
        );
      }, LOAD_UPDATE_DELAY_MS);
      loadTimer.unref();
    },
    async deregister() {
      if (!active) return;
      active = false;
      clearInterval(timer);
      if (loadTimer) clearTimeout(loadTimer);
      try {
        // Queued behind any heartbeat already sent, so nothing re-adds the key afterwards.
        await redis.multi().del(key).srem(servers, serverId).exec();
        await connection.quit();
      } catch (error) {
        redis.disconnect();
        throw new Error(
          `Redis discovery: cannot deregister ${serverId} (it expires within ${ttlMs} ms): ${messageOf(error)}`,
          { cause: error },
        );
      }
    },
  };
}

/** Points each client at the live chat server with the fewest connections. */
export async function createRedisDiscovery(
  target: RedisTarget,
  options: RedisDiscoveryOptions = {},
): Promise<Discovery> {
  const { servers, serverPrefix } = keys(options.keyPrefix ?? 'chathub:');
  const connection = await RedisConnection.open(
    target,
    {
      name: 'chathub-discovery',
      onError: options.onError ?? (() => {}),
      commandTimeoutMs: options.commandTimeoutMs,
      scripts: { liveServers: { lua: LIVE_SERVERS, numberOfKeys: 1 } },
    },
    'Redis discovery',
  );

  return {
    async chatUrl(_requestHost, avoid) {
      let records: string[];
      try {
        records = await connection.client.liveServers(servers, serverPrefix);
      } catch (error) {
        const detail = `Redis discovery: cannot list chat servers: ${messageOf(error)}`;
        throw new UnavailableError('Chat server discovery', new Error(detail, { cause: error }));
      }
      const live = records.flatMap((raw) => parseRecord(raw) ?? []);
      // A server the client just lost is only handed out again when it is the only one left: its
      // registration outlives a crash by up to the time-to-live.
      const candidates = live.some((record) => record.publicUrl !== avoid)
        ? live.filter((record) => record.publicUrl !== avoid)
        : live;
      let best: ServerRecord[] = [];
      for (const record of candidates) {
        if (best.length === 0 || record.connections < (best[0]?.connections ?? 0)) best = [record];
        else if (record.connections === best[0]?.connections) best.push(record);
      }
      // Ties are broken at random so idle servers share a burst of new clients.
      const chosen = best[Math.floor(Math.random() * best.length)];
      if (!chosen) {
        throw new DomainError(
          'SERVICE_UNAVAILABLE',
          'No chat server is available right now; try again in a moment',
        );
      }
      return chosen.publicUrl;
    },
    async close() {
      await connection.quit();
    },
  };
}

function parseRecord(raw: string): ServerRecord | null {
  try {
    const value = JSON.parse(raw) as Partial<ServerRecord>;
    if (typeof value.publicUrl !== 'string' || typeof value.connections !== 'number') return null;
    return {
      serverId: String(value.serverId),
      publicUrl: value.publicUrl,
      connections: value.connections,
    };
  } catch {
    return null;
  }
}
