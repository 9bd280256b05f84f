import type { Result } from 'ioredis';
import { UnavailableError } from '../domain/errors.js';
import { PRESENCE_TIMING } from '../limits.js';
import { messageOf, RedisConnection, type RedisTarget } from '../redis/connection.js';
import { roomKey } from '../redis/keys.js';
import type { Presence, PresenceChange } from './presence.js';

export interface RedisPresenceOptions {
  /** Unique per chat server process; must not contain `|`. */
  serverId: string;
  /** A server that stops heartbeating drops out of every count after this long. Default `PRESENCE_TIMING`. */
  ttlMs?: number;
  /** How often this server refreshes its members; must be below ttlMs. Default `PRESENCE_TIMING`. */
  heartbeatMs?: number;
  /** Prefix of every key; a room's is `<keyPrefix>{room:<roomId>}:presence`. Default `chathub:`. */
  keyPrefix?: string;
  /** Connection trouble and failed heartbeats. */
  onError?: (error: Error) => void;
  /** A command without a reply after this long rejects (half-open connections). Default 5000. */
  commandTimeoutMs?: number;
}

/*
 * Per room, a sorted set of `<userId>|<serverId>|<username>` members scored by their expiry time
 * (ms, Redis clock, so chat servers' clocks do not matter). A member exists while its server has
 * at least one local subscription of that user to the room and keeps heartbeating. Reads count only
 * members that have not expired; the scripts a chat server runs on its own rooms (joins, leaves,
 * heartbeats) also remove expired members and say how many, so that a count that changed by
 * expiry (or by a heartbeat restoring members Redis had lost) is announced by a server that saw
 * it, with no server re-reading every room's count on a timer. The key itself expires after its
 * latest member, so rooms of dead servers leave nothing behind.
 */

const PRELUDE = `
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function userOf(member)
  return string.match(member, '^([^|]*)')
end
local function expireAfterLatest()
  local latest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if latest[2] then redis.call('PEXPIREAT', key, math.ceil(tonumber(latest[2])) + 1000) end
end
local function live()
  return redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')
end
`;

/** For the scripts that change a room: drops its expired members, counting them. */
const EXPIRE = `
local expired = redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
`;

/**
 * ARGV: op ('add' | 'rem'), ttlMs, member, userId. Returns { before, after } distinct users, and
 * how many members expired.
 */
const CHANGE = `${PRELUDE}${EXPIRE}
local op, ttl, member, user = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local seen, users, mine, others = {}, 0, false, false
for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do
  local u = userOf(m)
  if not seen[u] then seen[u] = true; users = users + 1 end
  if u == user then
    if m == member then mine = true else others = true end
  end
end
local after = users
if op == 'add' then
  redis.call('ZADD', key, now + ttl, member)
  if not (mine or others) then after = users + 1 end
else
  redis.call('ZREM', key, member)
  if mine and not others then after = users - 1 end
end
expireAfterLatest()
return { users, after, expired }
`;

/** Returns the room's distinct users. */
const COUNT = `${PRELUDE}
local seen, users = {}, 0
for _, m in ipairs(live()) do
  local u = userOf(m)
  if not seen[u] then seen[u] = true; users = users + 1 end
end
return users
`;

/**
 * ARGV: max. Returns the room's distinct users, then the first `max` of them in name order
 * (ignoring case, then by id; compared bytewise, whatever Redis' locale) as id, name pairs.
 */
const USERS = `${PRELUDE}
local names, total = {}, 0
for _, m in ipairs(live()) do
  local u = userOf(m)
  if names[u] == nil then total = total + 1 end
  names[u] = names[u] or string.match(m, '^[^|]*|[^|]*|(.+)$') or false
end
local users = {}
for u, name in pairs(names) do
  local shown = name or u
  users[#users + 1] = { string.lower(shown), u, shown }
end
local function less(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
table.sort(users, function(a, b)
  if a[1] ~= b[1] then return less(a[1], b[1]) end
  return less(a[2], b[2])
end)
local reply = { total }
for i = 1, math.min(#users, tonumber(ARGV[1])) do
  reply[#reply + 1] = users[i][2]
  reply[#reply + 1] = users[i][3]
end
return reply
`;

/**
 * ARGV: ttlMs, member... Refreshes this server's members of one room. Returns how many members
 * expired plus how many it restored (members Redis did not hold): the room's count may have
 * changed by that much without a join or leave.
 */
const REFRESH = `${PRELUDE}${EXPIRE}
local expiry = now + tonumber(ARGV[1])
local restored = 0
for i = 2, #ARGV do restored = restored + redis.call('ZADD', key, expiry, ARGV[i]) end
expireAfterLatest()
return expired + restored
`;

// The scripts below, as ioredis commands (defined through the `scripts` option), typed the way
// ioredis documents for custom commands.
declare module 'ioredis' {
  interface RedisCommander<Context> {
    presenceChange(
      key: string,
      op: 'add' | 'rem',
      ttlMs: number,
      member: string,
      userId: string,
    ): Result<[number, number, number], Context>;
    presenceCount(key: string): Result<number, Context>;
    presenceUsers(key: string, max: number): Result<(string | number)[], Context>;
    presenceRefresh(key: string, ttlMs: number, ...members: string[]): Result<number, Context>;
  }
}

/** Members refreshed per script call, bounding one call's argument list. */
const REFRESH_BATCH = 500;

/**
 * Presence across every chat server, backed by Redis (one server or a cluster: each room is one
 * key, so every script touches one slot). Each process keeps its own per-room, per-user
 * subscription counts and only touches Redis when a user's local count crosses zero. Work on many
 * rooms (counts, heartbeats) goes out as one pipeline per node.
 */
export async function createRedisPresence(
  target: RedisTarget,
  options: RedisPresenceOptions,
): Promise<Presence> {
  const { serverId } = options;
  const ttlMs = options.ttlMs ?? PRESENCE_TIMING.ttlMs;
  const heartbeatMs = options.heartbeatMs ?? PRESENCE_TIMING.heartbeatMs;
  const prefix = options.keyPrefix ?? 'chathub:';
  const onError = options.onError ?? (() => {});
  if (!serverId || serverId.includes('|')) {
    throw new Error(`Redis presence: serverId must be non-empty and free of '|': ${serverId}`);
  }
  if (!(heartbeatMs > 0 && ttlMs > heartbeatMs)) {
    throw new Error(`Redis presence: need 0 < heartbeatMs (${heartbeatMs}) < ttlMs (${ttlMs})`);
  }
  const keyOf = (roomId: string) => roomKey(prefix, roomId, 'presence');
  /** How this server's users are listed; kept while they have a subscription here. */
  const names = new Map<string, string>();
  const memberOf = (userId: string) => `${userId}|${serverId}|${names.get(userId) ?? userId}`;

  const connection = await RedisConnection.open(
    target,
    {
      name: `chathub-presence-${serverId}`,
      onError,
      commandTimeoutMs: options.commandTimeoutMs,
      scripts: {
        presenceChange: { lua: CHANGE, numberOfKeys: 1 },
        presenceCount: { lua: COUNT, numberOfKeys: 1 },
        presenceUsers: { lua: USERS, numberOfKeys: 1 },
        presenceRefresh: { lua: REFRESH, numberOfKeys: 1 },
      },
    },
    'Redis presence',
  );
  const redis = connection.client;

  /** Runs `add` for every item in one pipeline per node; rejects with the first failure. */
  const perNode = async <T>(
    items: readonly T[],
    keyOfItem: (item: T) => string,
    add: (pipeline: ReturnType<typeof redis.pipeline>, item: T) => void,
  ): Promise<Map<T, unknown>> => {
    const replies = new Map<T, unknown>();
    await Promise.all(
      connection.groupByNode(items, keyOfItem).map(async (group) => {
        const pipeline = redis.pipeline();
        for (const item of group) add(pipeline, item);
        const results = (await pipeline.exec()) ?? [];
        for (const [i, item] of group.entries()) {
          const [error, reply] = results[i] ?? [new Error('no reply'), null];
          if (error) throw error;
          replies.set(item, reply);
        }
      }),
    );
    return replies;
  };

  /** Local subscriptions: room → user → number of subscriptions on this server. */
  const rooms = new Map<string, Map<string, number>>();
  let closed = false;

  const localCount = (roomId: string, userId: string) => rooms.get(roomId)?.get(userId) ?? 0;
  const setLocal = (roomId: string, userId: string, subscriptions: number) => {
    let users = rooms.get(roomId);
    if (subscriptions > 0) {
      if (!users) {
        users = new Map();
        rooms.set(roomId, users);
      }
      users.set(userId, subscriptions);
    } else if (users) {
      users.delete(userId);
      if (users.size === 0) rooms.delete(roomId);
    }
  };

  const countRoom = async (roomId: string) => Number(await redis.presenceCount(keyOf(roomId)));

  const fail = (what: string, roomId: string, error: unknown) =>
    new UnavailableError(
      'Presence',
      new Error(`Redis presence: cannot ${what} room ${roomId}: ${messageOf(error)}`, {
        cause: error,
      }),
    );

  const driftListeners = new Set<(roomId: string) => void>();
  const reportDrift = (roomId: string) => {
    for (const listener of driftListeners) listener(roomId);
  };

  // Heartbeat: refresh every local member. Commands go out in call order on one connection, so
  // a refresh never resurrects a member whose leave was issued after it.
  let beating = false;
  const heartbeat = async () => {
    if (beating || closed || rooms.size === 0) return;
    beating = true;
    try {
      const batches: { roomId: string; members: string[] }[] = [];
      for (const [roomId, users] of rooms) {
        const members = [...users.keys()].map(memberOf);
        for (let i = 0; i < members.length; i += REFRESH_BATCH) {
          batches.push({ roomId, members: members.slice(i, i + REFRESH_BATCH) });
        }
      }
      const replies = await perNode(
        batches,
        (batch) => keyOf(batch.roomId),
        (pipeline, batch) => pipeline.presenceRefresh(keyOf(batch.roomId), ttlMs, ...batch.members),
      );
      const drifted = new Set<string>();
      for (const [batch, changes] of replies) if (Number(changes) > 0) drifted.add(batch.roomId);
      for (const roomId of drifted) reportDrift(roomId);
    } catch (error) {
      onError(new Error(`Redis presence: heartbeat failed: ${messageOf(error)}`, { cause: error }));
    } finally {
      beating = false;
    }
  };
  // Started by the first join: a process that only counts (an API server) runs no timer.
  let timer: NodeJS.Timeout | undefined;

  const change = async (
    roomId: string,
    userId: string,
    op: 'add' | 'rem',
  ): Promise<PresenceChange> => {
    const [before, after, expired] = await redis.presenceChange(
      keyOf(roomId),
      op,
      ttlMs,
      memberOf(userId),
      userId,
    );
    // Members that expired on the way changed the count members last heard, too.
    return {
      online: Number(after),
      changed: Number(after) !== Number(before) || Number(expired) > 0,
    };
  };

  return {
    async join(roomId, userId, username) {
      if (closed) throw new Error('Redis presence: closed');
      if (username && !username.includes('|')) names.set(userId, username);
      timer ??= setInterval(() => void heartbeat(), heartbeatMs).unref();
      const subscriptions = localCount(roomId, userId);
      // Local state changes even if Redis fails: the subscription exists either way, and the
      // next heartbeat that reaches Redis adds the member.
      setLocal(roomId, userId, subscriptions + 1);
      try {
        if (subscriptions > 0) return { online: await countRoom(roomId), changed: false };
        return await change(roomId, userId, 'add');
      } catch (error) {
        throw fail('join', roomId, error);
      }
    },

    async leave(roomId, userId) {
      if (closed) throw new Error('Redis presence: closed');
      const subscriptions = localCount(roomId, userId);
      if (subscriptions === 0) return { online: await countRoom(roomId), changed: false };
      // Local state changes even if Redis fails: the subscription is gone either way, and a
      // member Redis still holds expires within ttlMs without our heartbeat.
      setLocal(roomId, userId, subscriptions - 1);
      try {
        if (subscriptions > 1) return { online: await countRoom(roomId), changed: false };
        const removing = change(roomId, userId, 'rem');
        // Its member is named by now; the name is kept only while the user is here.
        if (![...rooms.values()].some((users) => users.has(userId))) names.delete(userId);
        return await removing;
      } catch (error) {
        throw fail('leave', roomId, error);
      }
    },

    async users(roomId, max) {
      let reply: (string | number)[];
      try {
        reply = await redis.presenceUsers(keyOf(roomId), max);
      } catch (error) {
        throw fail('list', roomId, error);
      }
      const [online, ...pairs] = reply;
      const users = [];
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        users.push({ id: String(pairs[i]), username: String(pairs[i + 1]) });
      }
      return { online: Number(online), users };
    },

    async count(roomIds) {
      const unique = [...new Set(roomIds)];
      let replies: Map<string, unknown>;
      try {
        replies = await perNode(unique, keyOf, (pipeline, roomId) =>
          pipeline.presenceCount(keyOf(roomId)),
        );
      } catch (error) {
        const detail = `Redis presence: cannot count rooms: ${messageOf(error)}`;
        throw new UnavailableError('Presence', new Error(detail, { cause: error }));
      }
      return new Map(roomIds.map((roomId) => [roomId, Number(replies.get(roomId) ?? 0)]));
    },

    watchDrift(listener) {
      driftListeners.add(listener);
      return () => driftListeners.delete(listener);
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      driftListeners.clear();
      const leaving = [...rooms];
      rooms.clear();
      try {
        await perNode(
          leaving,
          ([roomId]) => keyOf(roomId),
          (pipeline, [roomId, users]) =>
            pipeline.zrem(keyOf(roomId), ...[...users.keys()].map(memberOf)),
        );
        await connection.quit();
      } catch (error) {
        // Redis is unreachable: our members expire within ttlMs on their own.
        onError(new Error(`Redis presence: leaving on close failed: ${messageOf(error)}`));
        redis.disconnect();
      }
    },
  };
}
