import { Redis } from 'ioredis';
import type { Presence } from '../src/presence/presence.js';
import { createRedisPresence } from '../src/presence/redis.js';
import { LocalServices } from '../test/helpers/localServices.js';
import { singleRedis } from '../test/helpers/redisCluster.js';
import { infoCpuMicros } from './redisShards.js';

/**
 * What presence costs one Redis core, for the README's capacity model: CPU per join and per leave,
 * per member on each heartbeat, per room counted (the room directory's live counts), and memory per
 * member. One chat
 * server's presence (the production adapter) on a Redis started for the run, or REDIS_URL.
 *
 *   npm run bench:presence -- [rooms] [membersPerRoom]     (default 10000 × 10)
 */

const [rooms = 10_000, membersPerRoom = 10] = process.argv.slice(2).map(Number);
const HEARTBEAT_MS = 500;
const HEARTBEAT_WINDOW_MS = 10_000;
const COUNTS = 10;
/** Joins in flight at once, as many sockets subscribing together would have. */
const CONCURRENCY = 200;

const roomIds = Array.from({ length: rooms }, (_, r) => `room-${r}`);
const members = roomIds.flatMap((roomId, r) =>
  Array.from({ length: membersPerRoom }, (_, m) => ({
    roomId,
    userId: `user-${r * membersPerRoom + m}`,
  })),
);

async function inParallel<T>(items: readonly T[], run: (item: T) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

function infoField(info: string, name: string): number {
  const value = new RegExp(`^${name}:([0-9.]+)\\s*$`, 'm').exec(info)?.[1];
  if (value === undefined) throw new Error(`INFO has no ${name}`);
  return Number(value);
}

/** Redis CPU (µs) spent while `work` runs. */
async function cpuOf(probe: Redis, work: () => Promise<unknown>): Promise<number> {
  const before = infoCpuMicros(await probe.info('cpu'));
  await work();
  return infoCpuMicros(await probe.info('cpu')) - before;
}

/** Scripts Redis has run (ioredis sends them as EVALSHA). */
async function scriptCalls(probe: Redis): Promise<number> {
  const calls = /^cmdstat_evalsha:calls=(\d+)/m.exec(await probe.info('commandstats'))?.[1];
  return Number(calls ?? 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const local = new LocalServices();
  const url = process.env.REDIS_URL ?? (await local.redis());
  const probe = new Redis(url);
  const open = (serverId: string, heartbeatMs: number): Promise<Presence> =>
    createRedisPresence(singleRedis(url), { serverId, heartbeatMs, ttlMs: heartbeatMs * 3 });
  const rows: [string, string][] = [];
  const perUnit = (cpu: number, units: number) => `${(cpu / units).toFixed(2)} µs`;
  try {
    await probe.flushall();
    // Joins, counts and leaves, with no heartbeat in the way.
    const quiet = await open('quiet', 3_600_000);
    const memoryBefore = infoField(await probe.info('memory'), 'used_memory');
    const joinCpu = await cpuOf(probe, () =>
      inParallel(members, (m) => quiet.join(m.roomId, m.userId, m.userId)),
    );
    const memory = infoField(await probe.info('memory'), 'used_memory') - memoryBefore;
    const countCpu = await cpuOf(probe, async () => {
      for (let i = 0; i < COUNTS; i++) await quiet.count(roomIds);
    });
    const leaveCpu = await cpuOf(probe, () =>
      inParallel(members, (m) => quiet.leave(m.roomId, m.userId)),
    );
    await quiet.close();

    // Heartbeats: the same members on a server that refreshes them every HEARTBEAT_MS.
    const beating = await open('beating', HEARTBEAT_MS);
    await inParallel(members, (m) => beating.join(m.roomId, m.userId, m.userId));
    await sleep(HEARTBEAT_MS);
    const callsBefore = await scriptCalls(probe);
    const heartbeatCpu = await cpuOf(probe, () => sleep(HEARTBEAT_WINDOW_MS));
    // One refresh script per room (up to 500 members) per heartbeat.
    const heartbeats = ((await scriptCalls(probe)) - callsBefore) / rooms;
    await beating.close();

    rows.push(
      ['join (member added, count returned)', perUnit(joinCpu, members.length)],
      ['leave', perUnit(leaveCpu, members.length)],
      ['heartbeat, per member refreshed', perUnit(heartbeatCpu, heartbeats * members.length)],
      ['count, per room (rooms.list)', perUnit(countCpu, COUNTS * rooms)],
      ['memory per member', `${(memory / members.length).toFixed(0)} B`],
    );
    console.log(
      `Presence on one Redis core: ${rooms.toLocaleString('en-US')} rooms × ${membersPerRoom} members, ` +
        `${heartbeats.toFixed(1)} heartbeats measured`,
    );
    for (const [what, value] of rows) console.log(`  ${what.padEnd(40)} ${value}`);
  } finally {
    probe.disconnect();
    await local.stop();
  }
}

await main();
