import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { EventBus, RoomBroadcast, RoomSignal } from '../../src/bus/eventBus.js';
import { createRedisBus } from '../../src/bus/redis.js';
import { describeBusContract } from '../contract/bus.contract.js';
import { ClusterAdmin, redisCluster, singleRedis } from '../helpers/redisCluster.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const redisUrl = inject('redisUrl');
const clusterNodes = inject('redisClusterNodes');
const runTag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const keyPrefix = `chathub-test-${runTag}:`;
const channelOf = (roomId: string) => `${keyPrefix}{room:${roomId}}:events`;
const presence = (online: number): RoomBroadcast => ({ kind: 'presence', online });
const eventually = <T>(assertion: () => T | Promise<T>) =>
  vi.waitFor(assertion, { timeout: 10_000, interval: 20 });

describeBusContract('Redis', () => createRedisBus(singleRedis(redisUrl), { keyPrefix }));
describeBusContract('Redis Cluster', () =>
  createRedisBus(redisCluster(clusterNodes), { keyPrefix }),
);

describe('Redis bus', () => {
  let admin: Redis;
  const opened: EventBus[] = [];
  const proxies: TcpProxy[] = [];
  let counter = 0;
  const room = () => `bus-redis-${runTag}-${++counter}`;
  const open = async (url = redisUrl) => {
    const bus = await createRedisBus(singleRedis(url), { keyPrefix });
    opened.push(bus);
    return bus;
  };
  const proxy = async () => {
    const started = await startTcpProxy(redisUrl);
    proxies.push(started);
    return started;
  };
  const subscribers = async (roomId: string) => {
    const reply = (await admin.call('PUBSUB', 'SHARDNUMSUB', channelOf(roomId))) as [
      string,
      number,
    ];
    return Number(reply[1]);
  };

  beforeAll(() => {
    admin = new Redis(redisUrl);
  });
  afterAll(async () => {
    await admin.quit();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  it('subscribes a room in Redis only while it has local listeners', async () => {
    const bus = await open();
    const roomId = room();
    expect(await subscribers(roomId)).toBe(0);
    const first = await bus.subscribe(roomId, () => {});
    const second = await bus.subscribe(roomId, () => {});
    expect(await subscribers(roomId)).toBe(1);
    await first();
    await first();
    expect(await subscribers(roomId)).toBe(1);
    await second();
    await eventually(async () => expect(await subscribers(roomId)).toBe(0));
  });

  it('uses the sharded channel <keyPrefix>{room:<roomId>}:events and JSON payloads', async () => {
    const bus = await open();
    const roomId = room();
    const received: RoomSignal[] = [];
    await bus.subscribe(roomId, (b) => void received.push(b));
    await admin.spublish(channelOf(roomId), JSON.stringify(presence(4)));
    await eventually(() => expect(received).toEqual([presence(4)]));
  });

  it('delivers between two buses (two chat servers)', async () => {
    const [a, b] = [await open(), await open()];
    const roomId = room();
    const received: RoomSignal[] = [];
    await b.subscribe(roomId, (x) => void received.push(x));
    for (let i = 1; i <= 5; i++) await a.publish(roomId, presence(i));
    await eventually(() => expect(received).toEqual([1, 2, 3, 4, 5].map(presence)));
  });

  it('re-subscribes its rooms after the connection drops, and tells their listeners to resync', async () => {
    const link = await proxy();
    const bus = await open(link.url);
    const direct = await open();
    const roomId = room();
    const left = room();
    const received: RoomSignal[] = [];
    await bus.subscribe(roomId, (x) => void received.push(x));
    const unsubscribe = await bus.subscribe(left, () => {});
    await direct.publish(roomId, presence(1));
    await eventually(() => expect(received).toEqual([presence(1)]));

    link.cut();
    // Left while the connection is down: it must not come back with the reconnect.
    await unsubscribe();
    await eventually(() => expect(received).toContainEqual({ kind: 'resync' }));
    // Once told, the subscription is back: what is published now arrives.
    await direct.publish(roomId, presence(2));
    await eventually(() =>
      expect(received).toEqual([presence(1), { kind: 'resync' }, presence(2)]),
    );
    expect(await subscribers(left)).toBe(0);
    expect(await subscribers(roomId)).toBe(1);
  });

  it('fails fast with a clear error while Redis is unreachable, and recovers', async () => {
    const link = await proxy();
    const bus = await open(link.url);
    const roomId = room();
    link.block();
    await eventually(async () => {
      await expect(bus.publish(roomId, presence(1))).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        message: 'Chat delivery is unavailable right now; try again in a moment',
        cause: { message: expect.stringContaining(`Redis bus: cannot publish to room ${roomId}`) },
      });
    });
    await expect(bus.subscribe(roomId, () => {})).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      cause: { message: expect.stringContaining(`Redis bus: cannot subscribe to room ${roomId}`) },
    });

    link.unblock();
    const received: RoomSignal[] = [];
    await eventually(async () => {
      await bus.subscribe(roomId, (x) => void received.push(x));
    });
    await eventually(async () => {
      await bus.publish(roomId, presence(2));
      expect(received).toContainEqual(presence(2));
    });
  });

  it('rejects with a clear error when Redis cannot be reached at all', async () => {
    const link = await proxy();
    link.block();
    await expect(createRedisBus(singleRedis(link.url), { keyPrefix })).rejects.toThrow(
      'Redis bus: cannot connect to Redis',
    );
  });
});

describe('Redis bus on a cluster', () => {
  const admin = new ClusterAdmin(clusterNodes);
  const opened: EventBus[] = [];
  let counter = 0;
  const room = () => `bus-cluster-${runTag}-${++counter}`;
  const open = async () => {
    const bus = await createRedisBus(redisCluster(clusterNodes), { keyPrefix });
    opened.push(bus);
    return bus;
  };
  /** A room id whose channel each master serves, one per master. */
  const roomPerMaster = async () => {
    const masters = await admin.masters();
    const found = new Map<string, string>();
    while (found.size < masters.length) {
      const roomId = room();
      const owner = await admin.masterOf(channelOf(roomId));
      if (!found.has(owner.address)) found.set(owner.address, roomId);
    }
    return found;
  };
  const shardSubscribers = async (address: string, roomId: string) => {
    const [host, port] = address.split(':');
    const node = new Redis(Number(port), host ?? '127.0.0.1');
    try {
      const reply = (await node.call('PUBSUB', 'SHARDNUMSUB', channelOf(roomId))) as [
        string,
        number,
      ];
      return Number(reply[1]);
    } finally {
      node.disconnect();
    }
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
  });
  afterAll(() => admin.close());

  it('subscribes each room on the master that serves its slot, and nowhere else', async () => {
    const bus = await open();
    const rooms = await roomPerMaster();
    const unsubscribes = await Promise.all(
      [...rooms.values()].map((id) => bus.subscribe(id, () => {})),
    );
    for (const [owner, roomId] of rooms) {
      for (const master of rooms.keys()) {
        expect(await shardSubscribers(master, roomId), `${roomId} on ${master}`).toBe(
          master === owner ? 1 : 0,
        );
      }
    }
    await Promise.all(unsubscribes.map((unsubscribe) => unsubscribe()));
    for (const [owner, roomId] of rooms) {
      await eventually(async () => expect(await shardSubscribers(owner, roomId)).toBe(0));
    }
  });

  it('relays the rooms of every shard between two buses, each in publish order', async () => {
    const [a, b] = [await open(), await open()];
    const rooms = [...(await roomPerMaster()).values()];
    const received = new Map(rooms.map((roomId) => [roomId, [] as RoomSignal[]]));
    for (const roomId of rooms) {
      await b.subscribe(roomId, (x) => void received.get(roomId)?.push(x));
    }
    const sent = Array.from({ length: 50 }, (_, i) => presence(i));
    await Promise.all(rooms.flatMap((roomId) => sent.map((x) => a.publish(roomId, x))));
    for (const roomId of rooms) {
      await eventually(() => expect(received.get(roomId)).toEqual(sent));
    }
  });
});
