import type { ChainableCommander, Result } from 'ioredis';
import { DomainError, UnavailableError } from '../domain/errors.js';
import { messageOf, RedisConnection, type RedisTarget } from '../redis/connection.js';
import type { ChatServerAnnouncement, ChatServerRegistration, Discovery } from './discovery.js';

/*
 * Every registered chat server keeps `<keyPrefix>{discovery}:server:<serverId>` alive with SET …
 * PX ttlMs on each heartbeat (every heartbeatMs), holding its public URL, current connection count
 * and ttlMs, and adds its id to the set `<keyPrefix>{discovery}:servers`. Discovery reads the set,
 * each key and the time its key has left in one script, which also drops ids whose key has expired.
 *
 * On a Redis Cluster the `{discovery}` hash tag keeps the whole registry on one slot, on purpose:
 * the script reads it atomically and a registration is one MULTI, which a cluster allows only
 * within one slot. The registry is one small key per chat server, written every second and read at
 * sign-in and reconnect, so one shard carries it easily; rooms, the heavy traffic, spread by slot.
 *
 * A server is handed out while it is fresh: heard from within staleAfterMs (its key's age is its
 * ttlMs minus the time left). So a server that dies stops being handed out within staleAfterMs,
 * long before its key expires; until then a stale server is only a last resort, for when no
 * server at all is fresh (every heartbeat failing, say), since one that may be alive beats none.
 * A server that cannot serve (see `available`) removes its key on its next heartbeat.
 */

export interface RedisDiscoveryOptions {
  /** Default `chathub:`. */
  keyPrefix?: string;
  /** Connection trouble and failed heartbeats. */
  onError?: (error: Error) => void;
  /** A command without a reply after this long rejects (half-open connections). Default 5000. */
  commandTimeoutMs?: number;
  /** How often a registered chat server announces itself. Default 1000. */
  heartbeatMs?: number;
  /** A server not heard from for this long is handed out only when none is fresher. Default 3000. */
  staleAfterMs?: number;
  /** A registration expires after this long without a heartbeat. Default 15000. */
  ttlMs?: number;
}

interface ServerRecord {
  serverId: string;
  publicUrl: string;
  connections: number;
  /** The time-to-live its key was set with; absent in records of older versions (never fresh). */
  ttlMs?: number;
}

/**
 * KEYS[1]: the id set; ARGV[1]: the server key prefix. Returns each live server's record followed
 * by the milliseconds its key has left.
 */
const LIVE_SERVERS = `
local ids = redis.call('SMEMBERS', KEYS[1])
local live = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local record = redis.call('GET', key)
  if record then
    table.insert(live, record)
    table.insert(live, redis.call('PTTL', key))
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return live
`;

/** Connection changes within this window go out as one load update. */
const LOAD_UPDATE_DELAY_MS = 50;

// The script above as an ioredis command (the `scripts` option), typed as ioredis documents.
declare module 'ioredis' {
  interface RedisCommander<Context> {
    liveServers(key: string, serverPrefix: string): Result<(string | number)[], Context>;
  }
}

/** Where the registry lives: one set of server ids and one record per server, all on one slot. */
export function registryKeys(keyPrefix = 'chathub:') {
  const prefix = `${keyPrefix}{discovery}:`;
  return {
    servers: `${prefix}servers`,
    serverKey: (serverId: string) => `${prefix}server:${serverId}`,
  };
}

/** Points each client at the fresh chat server with the fewest connections. */
export async function createRedisDiscovery(
  target: RedisTarget,
  options: RedisDiscoveryOptions = {},
): Promise<Discovery> {
  const { servers, serverKey } = registryKeys(options.keyPrefix);
  const heartbeatMs = options.heartbeatMs ?? 1_000;
  const staleAfterMs = options.staleAfterMs ?? 3_000;
  const ttlMs = options.ttlMs ?? 15_000;
  const onError = options.onError ?? (() => {});
  if (!(heartbeatMs > 0 && staleAfterMs > heartbeatMs && ttlMs >= staleAfterMs)) {
    throw new Error(
      `Redis discovery: need 0 < heartbeatMs (${heartbeatMs}) < staleAfterMs (${staleAfterMs}) <= ttlMs (${ttlMs})`,
    );
  }
  const connection = await RedisConnection.open(
    target,
    {
      name: 'chathub-discovery',
      onError,
      commandTimeoutMs: options.commandTimeoutMs,
      scripts: { liveServers: { lua: LIVE_SERVERS, numberOfKeys: 1 } },
    },
    'Redis discovery',
  );
  const redis = connection.client;
  /** Stops the heartbeats of registrations still active, when discovery closes. */
  const registrations = new Set<() => void>();

  const listServers = async (): Promise<{ record: ServerRecord; fresh: boolean }[]> => {
    let reply: (string | number)[];
    try {
      reply = await redis.liveServers(servers, serverKey(''));
    } catch (error) {
      const detail = `Redis discovery: cannot list chat servers: ${messageOf(error)}`;
      throw new UnavailableError('Chat server discovery', new Error(detail, { cause: error }));
    }
    const listed: { record: ServerRecord; fresh: boolean }[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const record = parseRecord(String(reply[i]));
      const ageMs = (record?.ttlMs ?? Number.NaN) - Number(reply[i + 1]);
      if (record) listed.push({ record, fresh: ageMs <= staleAfterMs });
    }
    return listed;
  };

  const register = async (server: ChatServerAnnouncement): Promise<ChatServerRegistration> => {
    const { serverId, publicUrl } = server;
    if (!serverId) throw new Error('Redis discovery: serverId must be non-empty');
    const key = serverKey(serverId);
    const withdraw = async () => {
      await exec(redis.multi().del(key).srem(servers, serverId));
    };
    const announce = async () => {
      if (!server.available()) return withdraw();
      const record: ServerRecord = {
        serverId,
        publicUrl,
        connections: server.connections(),
        ttlMs,
      };
      // The id is re-added every time, healing a discovery read that dropped it while our key had
      // briefly expired (e.g. across a Redis outage).
      await exec(
        redis.multi().set(key, JSON.stringify(record), 'PX', ttlMs).sadd(servers, serverId),
      );
    };
    try {
      await announce();
    } catch (error) {
      throw new Error(`Redis discovery: cannot register ${serverId}: ${messageOf(error)}`, {
        cause: error,
      });
    }

    let active = true;
    let beating = false;
    const heartbeat = () => {
      if (beating || !active) return;
      beating = true;
      announce()
        .catch((error: unknown) =>
          onError(
            new Error(`Redis discovery: heartbeat failed: ${messageOf(error)}`, { cause: error }),
          ),
        )
        .finally(() => {
          beating = false;
        });
    };
    const timer = setInterval(heartbeat, heartbeatMs);
    timer.unref();
    let loadTimer: NodeJS.Timeout | null = null;
    const stop = () => {
      active = false;
      clearInterval(timer);
      if (loadTimer) clearTimeout(loadTimer);
      registrations.delete(stop);
    };
    registrations.add(stop);

    return {
      loadChanged() {
        if (!active || loadTimer) return;
        loadTimer = setTimeout(() => {
          loadTimer = null;
          if (active) heartbeat();
        }, LOAD_UPDATE_DELAY_MS);
        loadTimer.unref();
      },
      async deregister() {
        if (!active) return;
        stop();
        try {
          // Queued behind any heartbeat already sent, so nothing re-adds the key afterwards.
          await withdraw();
        } catch (error) {
          throw new Error(
            `Redis discovery: cannot deregister ${serverId} (it goes stale within ${staleAfterMs} ms): ${messageOf(error)}`,
            { cause: error },
          );
        }
      },
    };
  };

  return {
    async chatUrl(_requestHost, avoid) {
      const listed = await listServers();
      const fresh = listed.filter((server) => server.fresh);
      const live = (fresh.length > 0 ? fresh : listed).map((server) => server.record);
      // A server the client just lost is only handed out again when it is the only one left: it
      // may still look fresh for a moment after a crash.
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
    register,
    async close() {
      for (const stop of [...registrations]) stop();
      await connection.quit();
    },
  };
}

/** Runs a MULTI, failing when any of its commands failed. */
async function exec(multi: ChainableCommander): Promise<void> {
  const results = await multi.exec();
  const failed = results?.find(([error]) => error);
  if (failed?.[0]) throw failed[0];
}

function parseRecord(raw: string): ServerRecord | null {
  try {
    const value = JSON.parse(raw) as Partial<ServerRecord>;
    if (typeof value.publicUrl !== 'string' || typeof value.connections !== 'number') return null;
    return {
      serverId: String(value.serverId),
      publicUrl: value.publicUrl,
      connections: value.connections,
      ttlMs: typeof value.ttlMs === 'number' ? value.ttlMs : undefined,
    };
  } catch {
    return null;
  }
}
