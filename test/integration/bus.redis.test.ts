import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { EventBus, RoomBroadcast } from '../../src/bus/eventBus.js';
import { createRedisBus } from '../../src/bus/redis.js';
import { describeBusContract } from '../contract/bus.contract.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const redisUrl = inject('redisUrl');
const runTag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const keyPrefix = `chathub-test-${runTag}:`;

describeBusContract('Redis', () => createRedisBus(redisUrl, { keyPrefix }));

describe('Redis bus', () => {
  let admin: Redis;
  const opened: EventBus[] = [];
  const proxies: TcpProxy[] = [];
  let counter = 0;
  const room = () => `bus-redis-${runTag}-${++counter}`;
  const open = async (url = redisUrl) => {
    const bus = await createRedisBus(url, { keyPrefix });
    opened.push(bus);
    return bus;
  };
  const proxy = async () => {
    const started = await startTcpProxy(redisUrl);
    proxies.push(started);
    return started;
  };
  const subscribers = async (roomId: string) => {
    const reply = (await admin.call('PUBSUB', 'NUMSUB', `${keyPrefix}room:${roomId}`)) as [
      string,
      number,
    ];
    return Number(reply[1]);
  };
  const presence = (online: number): RoomBroadcast => ({ kind: 'presence', online });
  const eventually = <T>(assertion: () => T | Promise<T>) =>
    vi.waitFor(assertion, { timeout: 10_000, interval: 20 });

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

  it('uses the channel <keyPrefix>room:<roomId> and JSON payloads', async () => {
    const bus = await open();
    const roomId = room();
    const received: RoomBroadcast[] = [];
    await bus.subscribe(roomId, (b) => void received.push(b));
    await admin.publish(`${keyPrefix}room:${roomId}`, JSON.stringify(presence(4)));
    await eventually(() => expect(received).toEqual([presence(4)]));
  });

  it('delivers between two buses (two chat servers)', async () => {
    const [a, b] = [await open(), await open()];
    const roomId = room();
    const received: RoomBroadcast[] = [];
    await b.subscribe(roomId, (x) => void received.push(x));
    for (let i = 1; i <= 5; i++) await a.publish(roomId, presence(i));
    await eventually(() => expect(received).toEqual([1, 2, 3, 4, 5].map(presence)));
  });

  it('re-subscribes its rooms after the connection drops', async () => {
    const link = await proxy();
    const bus = await open(link.url);
    const direct = await open();
    const roomId = room();
    const left = room();
    const received: RoomBroadcast[] = [];
    await bus.subscribe(roomId, (x) => void received.push(x));
    const unsubscribe = await bus.subscribe(left, () => {});
    await direct.publish(roomId, presence(1));
    await eventually(() => expect(received).toEqual([presence(1)]));

    link.cut();
    // Left while the connection is down: it must not come back with the reconnect.
    await unsubscribe();
    let online = 100;
    await eventually(async () => {
      await direct.publish(roomId, presence(++online));
      expect(received.length).toBeGreaterThan(1);
    });
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
    const received: RoomBroadcast[] = [];
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
    await expect(createRedisBus(link.url, { keyPrefix })).rejects.toThrow(
      'Redis bus: cannot connect to Redis',
    );
  });
});
