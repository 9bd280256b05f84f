import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventBus, RoomBroadcast, RoomSignal } from '../../src/bus/eventBus.js';
import { createRedisBus } from '../../src/bus/redis.js';
import type { Presence } from '../../src/presence/presence.js';
import { createRedisPresence } from '../../src/presence/redis.js';
import type { RedisTarget } from '../../src/redis/connection.js';
import { slotOf } from '../../src/redis/slot.js';
import { LocalServices } from '../helpers/localServices.js';
import { ClusterAdmin, redisCluster } from '../helpers/redisCluster.js';

/**
 * The bus and presence while a Redis Cluster of our own (three masters, three replicas, one-second
 * node timeout) loses a master to SIGKILL and moves a live room's slot to another master.
 */

const services = new LocalServices();
let admin: ClusterAdmin;
let cluster: RedisTarget;
const runTag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const keyPrefix = `chathub-faults-${runTag}:`;
const channelOf = (roomId: string) => `${keyPrefix}{room:${roomId}}:events`;
let counter = 0;
const room = () => `faults-${runTag}-${++counter}`;
const presence = (online: number): RoomBroadcast => ({ kind: 'presence', online });
const eventually = <T>(assertion: () => T | Promise<T>, timeout = 15_000) =>
  vi.waitFor(assertion, { timeout, interval: 50 });

const buses: EventBus[] = [];
const presences: Presence[] = [];
const openBus = async () => {
  const bus = await createRedisBus(cluster, { keyPrefix });
  buses.push(bus);
  return bus;
};

const openPresence = async (server: string) => {
  const presence = await createRedisPresence(cluster, {
    serverId: `${server}-${runTag}`,
    keyPrefix,
    ttlMs: 3_000,
    heartbeatMs: 1_000,
  });
  presences.push(presence);
  return presence;
};

/** Publishes 1, 2, 3, … every few ms until stopped; remembers which publishes were acknowledged. */
function steadyPublisher(bus: EventBus, roomId: string) {
  const acknowledged: number[] = [];
  let next = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const online = ++next;
      await bus.publish(roomId, presence(online)).then(
        () => acknowledged.push(online),
        () => {}, // Refused while the cluster fails over: the caller knows it was not relayed.
      );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    acknowledged,
    sent: () => next,
    async stop() {
      running = false;
      await done;
    },
  };
}

const onlineOf = (signals: RoomSignal[]) =>
  signals.flatMap((signal) => (signal.kind === 'presence' ? [signal.online] : []));

beforeAll(async () => {
  const started = await services.redisCluster({ nodeTimeoutMs: 1_000 });
  admin = new ClusterAdmin(started.seeds, started.kill);
  cluster = redisCluster(started.seeds);
});
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
  await Promise.all(presences.splice(0).map((p) => p.close()));
});
afterAll(async () => {
  admin?.close();
  await services.stop();
});

/** A room with a subscriber on one bus and a steady publisher on another. */
async function liveRoom() {
  const [publisher, subscriber] = [await openBus(), await openBus()];
  const roomId = room();
  const received: RoomSignal[] = [];
  await subscriber.subscribe(roomId, (signal) => void received.push(signal));
  const traffic = steadyPublisher(publisher, roomId);
  await eventually(() => expect(onlineOf(received).length).toBeGreaterThan(10));
  return { roomId, subscriber, received, traffic };
}

/**
 * After a fault: the subscriber was told to resync, hears new traffic again, heard everything in
 * publish order and nothing twice, and after the resync every acknowledged publish. (What went
 * missing before it is what `resync` is for: the hub reads it from the log.)
 */
async function expectRecovered({ received, traffic }: Awaited<ReturnType<typeof liveRoom>>) {
  await eventually(() => expect(received).toContainEqual({ kind: 'resync' }));
  const afterFault = traffic.sent();
  await eventually(() => expect(Math.max(...onlineOf(received))).toBeGreaterThan(afterFault + 10));
  await traffic.stop();
  const heard = onlineOf(received);
  expect(heard).toEqual([...heard].sort((a, b) => a - b));
  expect(new Set(heard).size).toBe(heard.length);
  const resyncAt = received.findIndex((signal) => signal.kind === 'resync');
  const firstAfter = onlineOf(received.slice(resyncAt + 1))[0] ?? Number.POSITIVE_INFINITY;
  await eventually(() =>
    expect(onlineOf(received).filter((online) => online >= firstAfter)).toEqual(
      traffic.acknowledged.filter((online) => online >= firstAfter),
    ),
  );
}

describe('a Redis Cluster under faults', { timeout: 60_000 }, () => {
  it('moves a live room to another master: subscribers keep receiving, are told to resync, and see nothing twice', async () => {
    const [watcher, members] = [await openPresence('watcher'), await openPresence('members')];
    const live = await liveRoom();
    const { roomId } = live;
    await members.join(roomId, 'ada');
    await members.join(roomId, 'bob');
    const from = await admin.masterOf(channelOf(roomId));
    const to = (await admin.masters()).find((node) => node.id !== from.id);
    if (!to) throw new Error('no other master');

    await admin.moveSlot(slotOf(channelOf(roomId)), to.address);

    await expectRecovered(live);
    expect((await admin.masterOf(channelOf(roomId))).id).toBe(to.id);
    await expect(live.subscriber.ping()).resolves.toBeUndefined();
    // The room's presence moved with it (same hash tag, same slot) and keeps counting.
    await expect(watcher.count([roomId])).resolves.toEqual(new Map([[roomId, 2]]));
    await members.leave(roomId, 'ada');
    await expect(watcher.count([roomId])).resolves.toEqual(new Map([[roomId, 1]]));
  });

  it('follows a room to the promoted replica when its master is killed, and says it is not ready meanwhile', async () => {
    const [watcher, members] = [await openPresence('watcher'), await openPresence('members')];
    const live = await liveRoom();
    for (const user of ['ada', 'bob', 'cy']) await members.join(live.roomId, user);
    const victim = await admin.masterOf(channelOf(live.roomId));

    const killing = admin.killMaster(victim.port);
    // The master is gone: the bus cannot deliver the room until a replica takes over, and says so.
    await eventually(() => expect(live.subscriber.ping()).rejects.toThrow(), 5_000);
    const promoted = await killing;
    expect(promoted.slots).toContain(slotOf(channelOf(live.roomId)));

    await expectRecovered(live);
    await eventually(() => expect(live.subscriber.ping()).resolves.toBeUndefined());
    // Presence lives on the promoted replica (or comes back with the next heartbeat), and a
    // user who leaves now is gone from the count at once.
    const { roomId } = live;
    await eventually(async () => expect((await watcher.count([roomId])).get(roomId)).toBe(3));
    await members.leave(roomId, 'bob');
    await expect(watcher.count([roomId])).resolves.toEqual(new Map([[roomId, 2]]));
  });
});
