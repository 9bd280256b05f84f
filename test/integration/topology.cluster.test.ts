import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChatHubConnection } from '../../src/client/index.js';
import type { Message } from '../../src/contract/models.js';
import { roomKey } from '../../src/redis/keys.js';
import { slotOf } from '../../src/redis/slot.js';
import { type DeployRole, roleEnv } from '../helpers/deployEnv.js';
import { EventLog } from '../helpers/events.js';
import { LocalServices } from '../helpers/localServices.js';
import { freePort } from '../helpers/ports.js';
import { type ServerProcess, spawnServer } from '../helpers/process.js';
import { ClusterAdmin, type ClusterNodeView } from '../helpers/redisCluster.js';
import { scratchDatabase, signUpAndConnect } from '../helpers/scaleOut.js';
import { TEST_SECRET } from '../helpers/server.js';

/**
 * The scale-out topology on a Redis Cluster, as separate processes: one API server and three chat
 * servers on a cluster of our own (three masters, three replicas) and a MongoDB-protocol server,
 * with the deployments' per-role settings. Five rooms whose channels live on different shards,
 * users on every chat server. While messages and votes flow, one master is SIGKILLed (its replica
 * takes over) and a live room's slot moves to another master.
 */
const services = new LocalServices();
const database = scratchDatabase(inject('mongoUrl'), 'chathub_cluster');
const dataDir = mkdtempSync(join(tmpdir(), 'chathub-topology-cluster-'));
const tag = randomBytes(3).toString('hex');

let admin: ClusterAdmin;
let apiUrl = '';
const processes: ServerProcess[] = [];
const chatUrls: string[] = [];
const chatPorts: number[] = [];
/** Room ids, and the master that serves each room's channel at the start. */
const rooms: { id: string; master: ClusterNodeView }[] = [];
const people: { name: string; connection: ChatHubConnection; logs: Map<string, EventLog> }[] = [];

const channelOf = (roomId: string) => roomKey('chathub:', roomId, 'events');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function spawnRole(role: DeployRole, seeds: string): Promise<number> {
  const port = await freePort();
  const publicUrl = `ws://127.0.0.1:${port}/ws`;
  processes.push(
    await spawnServer({
      ...roleEnv(role),
      REDIS_CLUSTER_NODES: seeds,
      MONGO_URL: database.url,
      JWT_SECRET: TEST_SECRET,
      DATA_DIR: dataDir,
      PORT: String(port),
      ...(role === 'chat' ? { PUBLIC_URL: publicUrl } : {}),
    }),
  );
  if (role === 'chat') {
    chatUrls.push(publicUrl);
    chatPorts.push(port);
  }
  return port;
}

/** Every stored message of a room, oldest first. */
async function history(reader: ChatHubConnection, roomId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let before: string | undefined; ; ) {
    const page = await reader.chat.history.query({ roomId, before, limit: 100 });
    ids.unshift(...page.messages.map((message) => message.id));
    if (!page.hasMore) return ids;
    before = page.messages[0]?.id;
  }
}

async function readyz(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
  return response?.status ?? 0;
}

/** Five room names whose channels spread over every master. */
async function roomsOnEveryShard(): Promise<{ id: string; master: ClusterNodeView }[]> {
  const masters = await admin.masters();
  const chosen: { id: string; master: ClusterNodeView }[] = [];
  for (let i = 0; chosen.length < 5; i++) {
    const id = `shard-${tag}-${i}`;
    const master = await admin.masterOf(channelOf(id));
    const covered = new Set(chosen.map((room) => room.master.id));
    const missing = masters.filter((node) => !covered.has(node.id)).length;
    // Take a room on a master not yet covered, or any room once every master has one.
    if (!covered.has(master.id) || missing === 0 || 5 - chosen.length > missing) {
      chosen.push({ id, master });
    }
  }
  return chosen;
}

beforeAll(async () => {
  const cluster = await services.redisCluster({ nodeTimeoutMs: 1_000 });
  admin = new ClusterAdmin(cluster.seeds, cluster.kill);
  const apiPort = await spawnRole('api', cluster.seeds);
  apiUrl = `http://127.0.0.1:${apiPort}`;
  await Promise.all([1, 2, 3].map(() => spawnRole('chat', cluster.seeds)));
  rooms.push(...(await roomsOnEveryShard()));
}, 90_000);

afterAll(async () => {
  for (const { logs } of people) for (const log of logs.values()) log.close();
  await Promise.allSettled(people.map(({ connection }) => connection.close()));
  await Promise.allSettled(processes.map((process) => process.stop('SIGTERM')));
  admin?.close();
  await services.stop();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('one API server and three chat servers on a Redis Cluster', { timeout: 120_000 }, () => {
  it('creates rooms on every shard and spreads users over every chat server', async () => {
    for (let i = 0; i < 9; i++) {
      const name = `clu${i}-${tag}`;
      const connection = await signUpAndConnect(apiUrl, name);
      if (i === 0) {
        for (const room of rooms) {
          const created = await connection.rooms.create.mutate({ name: room.id });
          expect(created.id).toBe(room.id);
        }
      }
      const logs = new Map(rooms.map(({ id }) => [id, EventLog.open(connection, id)]));
      for (const log of logs.values()) await log.waitFor(() => log.online() !== undefined, 'live');
      people.push({ name, connection, logs });
      // Lets the chat server report its new load to discovery before the next sign-in.
      await sleep(150);
    }
    expect(new Set(people.map((p) => p.connection.session().chatUrl))).toEqual(new Set(chatUrls));
    expect(new Set(rooms.map((room) => room.master.id)).size).toBe(3);
    for (const { logs } of people) {
      for (const log of logs.values()) await log.waitFor(() => log.online() === 9, 'nine online');
    }
  });

  it('delivers every acknowledged message once, in one order, with exact votes, through a master failover and a slot move', async () => {
    // One sender per chat server, each writing into every room in turn.
    const senders = chatUrls.map((url) => {
      const sender = people.find((p) => p.connection.session().chatUrl === url);
      if (!sender) throw new Error(`nobody on ${url}`);
      return sender;
    });
    const targets = new Map<string, Message>();
    for (const room of rooms) {
      const first = senders[0];
      if (!first) throw new Error('no sender');
      targets.set(
        room.id,
        await first.connection.chat.send.mutate({ roomId: room.id, body: 'vote on me' }),
      );
    }
    const acknowledged = new Map<string, string[]>(rooms.map(({ id }) => [id, []]));
    let sending = true;
    const traffic = senders.map(async ({ connection, name }, s) => {
      for (let n = 0; sending; n++) {
        const room = rooms[(n + s) % rooms.length];
        if (!room) continue;
        try {
          const sent = await connection.chat.send.mutate({
            roomId: room.id,
            body: `${name} #${n}`,
          });
          acknowledged.get(room.id)?.push(sent.id);
        } catch {
          // Refused during the failover; only acknowledged messages are promised.
        }
        await sleep(120);
      }
    });
    // Everyone votes on every room's target while the faults happen: 6 up, 3 down each.
    const voting = people.map(async ({ connection }, i) => {
      for (const room of rooms) {
        const target = targets.get(room.id);
        if (!target) continue;
        const vote = i < 6 ? 'up' : 'down';
        for (;;) {
          try {
            await connection.chat.vote.mutate({ messageId: target.id, vote });
            break;
          } catch {
            await sleep(200);
          }
        }
        await sleep(150);
      }
    });

    await sleep(1_000);
    // The master serving the most rooms dies.
    const counts = new Map<string, number>();
    for (const room of rooms) counts.set(room.master.id, (counts.get(room.master.id) ?? 0) + 1);
    const victim = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    const victimNode = rooms.find((room) => room.master.id === victim)?.master;
    if (!victimNode) throw new Error('no victim');
    const killing = admin.killMaster(victimNode.port);
    // Every chat server's bus has rooms on it: /readyz says so until a replica takes over.
    await Promise.all(
      chatPorts.map(async (port) => {
        for (let i = 0; i < 100 && (await readyz(port)) !== 503; i++) await sleep(20);
        expect(await readyz(port), `chat server ${port} during the failover`).toBe(503);
      }),
    );
    const promoted = await killing;
    await Promise.all(
      chatPorts.map(async (port) => {
        for (let i = 0; i < 150 && (await readyz(port)) !== 200; i++) await sleep(100);
        expect(await readyz(port), `chat server ${port} after the failover`).toBe(200);
      }),
    );

    // Then a live room on a surviving master moves to another master.
    const moving = rooms.find((room) => room.master.id !== victim);
    const destination = (await admin.masters()).find(
      (node) => node.id !== moving?.master.id && node.id !== promoted.id,
    );
    if (!moving || !destination) throw new Error('nothing to move');
    await sleep(500);
    await admin.moveSlot(slotOf(channelOf(moving.id)), destination.address);
    expect((await admin.masterOf(channelOf(moving.id))).id).toBe(destination.id);
    await sleep(1_500);
    sending = false;
    await Promise.all([...traffic, ...voting]);
    const faultsOverAt = Date.now();

    for (const room of rooms) {
      const reader = senders[0]?.connection;
      if (!reader) throw new Error('no reader');
      const storedIds = await history(reader, room.id);
      expect(storedIds).toEqual(expect.arrayContaining(acknowledged.get(room.id) ?? []));
      const last = storedIds.at(-1) ?? '';
      const orders = new Set<string>();
      for (const { name, logs } of people) {
        const log = logs.get(room.id);
        if (!log) throw new Error('no log');
        await log.waitFor(
          () => log.messages().some((message) => message.id === last),
          `${name} caught up in ${room.id}`,
          20_000,
        );
        const delivered = log.received.flatMap(({ event }) =>
          event.type === 'message' ? [event.message.id] : [],
        );
        expect(delivered.length, `${name} got no message twice in ${room.id}`).toBe(
          new Set(delivered).size,
        );
        expect([...delivered].sort(), `${name} got every message of ${room.id}`).toEqual(
          [...storedIds].sort(),
        );
        orders.add(
          log
            .messages()
            .map((message) => message.id)
            .join(','),
        );
        await log.waitFor(
          () => {
            const target = log.messages().find((m) => m.id === targets.get(room.id)?.id);
            return target?.up === 6 && target.down === 3;
          },
          `${name} sees the exact votes in ${room.id}`,
          20_000,
        );
      }
      expect(orders.size, `one order in ${room.id}`).toBe(1);
    }

    for (const { logs } of people) {
      for (const log of logs.values()) await log.waitFor(() => log.online() === 9, 'nine', 15_000);
    }
    expect(Date.now() - faultsOverAt, 'presence right within 15 s').toBeLessThanOrEqual(15_000);
  });
});
