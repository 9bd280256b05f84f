import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { Presence } from '../../src/presence/presence.js';
import { createRedisPresence, type RedisPresenceOptions } from '../../src/presence/redis.js';
import { describePresenceContract } from '../contract/presence.contract.js';
import { redisCluster, singleRedis } from '../helpers/redisCluster.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const redisUrl = inject('redisUrl');
const clusterNodes = inject('redisClusterNodes');
const runTag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const keyPrefix = `chathub-test-${runTag}:`;
let servers = 0;
const serverId = () => `server-${runTag}-${++servers}`;

describePresenceContract('Redis', () =>
  createRedisPresence(singleRedis(redisUrl), { serverId: serverId(), keyPrefix }),
);
describePresenceContract('Redis Cluster', () =>
  createRedisPresence(redisCluster(clusterNodes), { serverId: serverId(), keyPrefix }),
);

describe('Redis presence across chat servers', () => {
  let admin: Redis;
  const opened: Presence[] = [];
  const proxies: TcpProxy[] = [];
  let counter = 0;
  const room = () => `presence-redis-${runTag}-${++counter}`;
  // Short enough to expire within a test, long enough for a loaded machine to keep heartbeating.
  const fast = { ttlMs: 600, heartbeatMs: 100 };
  const open = async (options: Partial<RedisPresenceOptions> = {}, url = redisUrl) => {
    const presence = await createRedisPresence(singleRedis(url), {
      serverId: serverId(),
      keyPrefix,
      ...options,
    });
    opened.push(presence);
    return presence;
  };
  const countOf = async (presence: Presence, roomId: string) =>
    (await presence.count([roomId])).get(roomId);
  const eventually = (assertion: () => Promise<void>) =>
    vi.waitFor(assertion, { timeout: 10_000, interval: 50 });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(() => {
    admin = new Redis(redisUrl);
  });
  afterAll(async () => {
    await admin.quit();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((presence) => presence.close()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });

  it('counts distinct users over two servers sharing a room', async () => {
    const [a, b] = [await open(), await open()];
    const roomId = room();
    await expect(a.join(roomId, 'alice')).resolves.toEqual({ online: 1, changed: true });
    await expect(b.join(roomId, 'bob')).resolves.toEqual({ online: 2, changed: true });
    await expect(b.join(roomId, 'carol')).resolves.toEqual({ online: 3, changed: true });
    await expect(countOf(a, roomId)).resolves.toBe(3);
    await expect(countOf(b, roomId)).resolves.toBe(3);
    await expect(a.leave(roomId, 'alice')).resolves.toEqual({ online: 2, changed: true });
    await expect(countOf(b, roomId)).resolves.toBe(2);
  });

  it('counts a user on both servers once, until the last server lets go', async () => {
    const [a, b] = [await open(), await open()];
    const roomId = room();
    await expect(a.join(roomId, 'alice')).resolves.toEqual({ online: 1, changed: true });
    await expect(b.join(roomId, 'alice')).resolves.toEqual({ online: 1, changed: false });
    await expect(b.join(roomId, 'alice')).resolves.toEqual({ online: 1, changed: false });
    await expect(a.leave(roomId, 'alice')).resolves.toEqual({ online: 1, changed: false });
    await expect(b.leave(roomId, 'alice')).resolves.toEqual({ online: 1, changed: false });
    await expect(countOf(a, roomId)).resolves.toBe(1);
    await expect(b.leave(roomId, 'alice')).resolves.toEqual({ online: 0, changed: true });
    await expect(countOf(a, roomId)).resolves.toBe(0);
    // Nothing is left behind in Redis.
    expect(await admin.exists(`${keyPrefix}{room:${roomId}}:presence`)).toBe(0);
  });

  it('lists the users of every server by name, a user on two servers once', async () => {
    const [a, b] = [await open(), await open()];
    const roomId = room();
    await a.join(roomId, 'u1', 'ada');
    await b.join(roomId, 'u2', 'bob');
    await b.join(roomId, 'u1', 'ada');
    const both = {
      online: 2,
      users: [
        { id: 'u1', username: 'ada' },
        { id: 'u2', username: 'bob' },
      ],
    };
    await expect(a.users(roomId, 50)).resolves.toEqual(both);
    await expect(b.users(roomId, 50)).resolves.toEqual(both);
    await a.leave(roomId, 'u1');
    await expect(a.users(roomId, 50)).resolves.toEqual(both);
    await b.leave(roomId, 'u2');
    await expect(a.users(roomId, 50)).resolves.toEqual({
      online: 1,
      users: [{ id: 'u1', username: 'ada' }],
    });
  });

  it('drops the users of a server that dies without leaving, within the TTL', async () => {
    const proxy = await startTcpProxy(redisUrl);
    proxies.push(proxy);
    const survivor = await open(fast);
    const doomed = await open(fast, proxy.url);
    const roomId = room();
    await survivor.join(roomId, 'alice');
    await doomed.join(roomId, 'bob');
    await doomed.join(roomId, 'alice');
    await expect(countOf(survivor, roomId)).resolves.toBe(2);

    // The host vanishes: no leave, no heartbeat, not even a connection to Redis.
    proxy.block();
    await eventually(async () => expect(await countOf(survivor, roomId)).toBe(1));
    // alice stays: her subscription on the surviving server keeps heartbeating.
    await sleep(2 * fast.ttlMs);
    await expect(countOf(survivor, roomId)).resolves.toBe(1);
  });

  it('names the rooms whose count changed with no join or leave: members expired, or restored by its heartbeat', async () => {
    const proxy = await startTcpProxy(redisUrl);
    proxies.push(proxy);
    const survivor = await open(fast);
    const doomed = await open(fast, proxy.url);
    const drifted: string[] = [];
    survivor.watchDrift((roomId) => drifted.push(roomId));
    const [quiet, emptied] = [room(), room()];
    await survivor.join(quiet, 'alice');
    await survivor.join(emptied, 'alice');
    await doomed.join(emptied, 'bob');
    await sleep(3 * fast.heartbeatMs);
    expect(drifted).toEqual([]);

    // bob's server vanishes: the survivor's heartbeat removes him and names that room only.
    proxy.block();
    await eventually(async () => expect(drifted).toEqual([emptied]));
    await expect(countOf(survivor, emptied)).resolves.toBe(1);

    // Redis loses alice (a restart without persistence): the heartbeat puts her back and says so.
    drifted.length = 0;
    await admin.del(`${keyPrefix}{room:${quiet}}:presence`);
    await eventually(async () => expect(drifted).toContain(quiet));
    await expect(countOf(survivor, quiet)).resolves.toBe(1);
  });

  it('flags a join that removed expired members on the way as a change, though its own count did not move', async () => {
    const proxy = await startTcpProxy(redisUrl);
    proxies.push(proxy);
    // Servers whose heartbeats come too late to remove bob first: the join itself must notice.
    const slow = { ttlMs: 60_000, heartbeatMs: 30_000 };
    const [first, second] = [await open(slow), await open(slow)];
    const doomed = await open(fast, proxy.url);
    const roomId = room();
    await first.join(roomId, 'carol');
    await doomed.join(roomId, 'bob');
    proxy.block();
    await sleep(2 * fast.ttlMs);
    // carol is already online through the first server, so her count stays 1 … but members last
    // heard 2, and bob is gone.
    await expect(second.join(roomId, 'carol')).resolves.toEqual({ online: 1, changed: true });
  });

  it('keeps live members past the TTL by heartbeating', async () => {
    const presence = await open(fast);
    const roomId = room();
    await presence.join(roomId, 'alice');
    await sleep(3 * fast.ttlMs);
    await expect(countOf(presence, roomId)).resolves.toBe(1);
    const ttl = await admin.pttl(`${keyPrefix}{room:${roomId}}:presence`);
    expect(ttl).toBeGreaterThan(0);
  });

  it('removes its members at once when closed', async () => {
    const [a, b] = [await open(), await open()];
    const roomId = room();
    await a.join(roomId, 'alice');
    await b.join(roomId, 'bob');
    await b.close();
    await expect(countOf(a, roomId)).resolves.toBe(1);
  });

  it('reconciles after Redis was unreachable: a failed join is restored, a failed leave expires', async () => {
    const proxy = await startTcpProxy(redisUrl);
    proxies.push(proxy);
    const observer = await open(fast);
    const presence = await open(fast, proxy.url);
    const [joined, left] = [room(), room()];
    await presence.join(left, 'bob');
    proxy.block();
    await expect(presence.join(joined, 'alice')).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'Presence is unavailable right now; try again in a moment',
      cause: { message: expect.stringContaining(`Redis presence: cannot join room ${joined}`) },
    });
    await expect(presence.leave(left, 'bob')).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
    // Nothing refreshes bob any more: he drops out within the TTL.
    await eventually(async () => expect(await countOf(observer, left)).toBe(0));

    proxy.unblock();
    // alice's subscription stood all along: the heartbeat puts her in Redis, with no new join.
    await eventually(async () => expect(await countOf(observer, joined)).toBe(1));
    await sleep(3 * fast.heartbeatMs);
    await expect(countOf(observer, left)).resolves.toBe(0);
    await expect(presence.leave(joined, 'alice')).resolves.toEqual({ online: 0, changed: true });
  });

  it('rejects a serverId that cannot be told apart in a member', async () => {
    await expect(
      createRedisPresence(singleRedis(redisUrl), { serverId: 'a|b', keyPrefix }),
    ).rejects.toThrow('serverId');
  });
});
