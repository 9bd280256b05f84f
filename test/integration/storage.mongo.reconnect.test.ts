import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { registryKeys } from '../../src/discovery/redis.js';
import { openMongoStore } from '../../src/storage/mongo.js';
import type { Store } from '../../src/storage/store.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

/**
 * The database goes away and comes back (a TCP proxy in front of FerretDB). The store must get it
 * back by itself, even when its MongoClient never would; a server whose storage stays away must
 * say so to the orchestrator (liveness) and to clients (discovery) so that it is restarted.
 */
const database = `chathub_reconnect_${randomBytes(4).toString('hex')}`;
const mongoUrl = (() => {
  const url = new URL(inject('mongoUrl'));
  url.pathname = `/${database}`;
  return url.toString();
})();
const ROOM = { id: 'reconnect-room', name: 'Reconnect', createdAt: 1 };

const proxies: TcpProxy[] = [];
const stores: Store[] = [];
const proxy = async () => {
  const started = await startTcpProxy(mongoUrl);
  proxies.push(started);
  return started;
};
const open = async (url: string, reconnectAfterMs: number) => {
  const replaced: number[] = [];
  const store = await openMongoStore(url, {
    reconnectAfterMs,
    onClientReplaced: (unreachableForMs) => replaced.push(unreachableForMs),
  });
  stores.push(store);
  return { store, replaced };
};
/** Every failure a store answered with, by its code: all must be SERVICE_UNAVAILABLE. */
const failureCodes = new Set<string>();
/** Whether the store reaches the database now. */
const reaches = (store: Store) =>
  store.rooms.get(ROOM.id).then(
    (room) => room?.id === ROOM.id,
    (error: { code?: string }) => {
      failureCodes.add(String(error.code));
      return false;
    },
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((store) => store.close()));
  await Promise.all(proxies.splice(0).map((started) => started.close()));
});
afterAll(async () => {
  const client = new MongoClient(inject('mongoUrl'));
  await client.db(database).dropDatabase();
  await client.close();
});

describe('the MongoDB store across database outages', { timeout: 90_000 }, () => {
  it('answers SERVICE_UNAVAILABLE while the database is cut off, and recovers when it is back', async () => {
    const front = await proxy();
    const { store, replaced } = await open(front.url, 10_000);
    await store.rooms.ensure(ROOM);

    front.block();
    await expect(store.rooms.get(ROOM.id)).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The database is unavailable right now; try again in a moment',
    });
    front.unblock();
    await vi.waitFor(async () => expect(await reaches(store)).toBe(true), {
      timeout: 15_000,
      interval: 200,
    });
    // The driver reconnected by itself, well within the bound: nothing was replaced.
    expect(replaced).toEqual([]);
  });

  it('replaces a client that stays stuck after the database is back', async () => {
    const front = await proxy();
    const stuck = await open(front.url, Number.POSITIVE_INFINITY);
    const healing = await open(front.url, 2_000);
    await stuck.store.rooms.ensure(ROOM);

    // The database vanishes, then comes back behind something that accepts connections and
    // answers one byte a second: the driver's monitor connects into it and waits there for good.
    front.block();
    expect(await Promise.all([reaches(stuck.store), reaches(healing.store)])).toEqual([
      false,
      false,
    ]);
    front.stall();
    await sleep(3_000);
    front.unblock();
    const backAt = Date.now();

    // The same database, through the same proxy, stays out of reach of the client left alone.
    const stuckTries = (async () => {
      const outcomes: boolean[] = [];
      while (Date.now() - backAt < 8_000) outcomes.push(await reaches(stuck.store));
      return outcomes;
    })();
    await vi.waitFor(async () => expect(await reaches(healing.store)).toBe(true), {
      timeout: 30_000,
      interval: 200,
    });
    expect(healing.replaced.length).toBeGreaterThan(0);
    const outcomes = await stuckTries;
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes).not.toContain(true);
    // Operations cut short by the replacement too: callers may retry.
    expect([...failureCodes]).toEqual(['SERVICE_UNAVAILABLE']);
    expect(stuck.replaced).toEqual([]);
  });
});

describe('a server whose storage stays unreachable', { timeout: 90_000 }, () => {
  let redis: Redis;
  let server: TestServer | undefined;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await server?.stop();
    await redis.quit();
  });

  /** Public URLs of the chat servers registered in Redis (default key prefix). */
  const registered = async () => {
    const keys = registryKeys();
    const ids = await redis.smembers(keys.servers);
    const records = await Promise.all(ids.map((id) => redis.get(keys.serverKey(id))));
    return records.flatMap((raw) =>
      raw ? [(JSON.parse(raw) as { publicUrl: string }).publicUrl] : [],
    );
  };
  const liveness = async () => {
    const response = await fetch(`${server?.apiUrl}/healthz`);
    return { status: response.status, body: (await response.json()) as { reason?: string } };
  };

  it('fails its liveness check and leaves discovery past STORAGE_UNHEALTHY_AFTER, and comes back with its storage', async () => {
    const front = await proxy();
    server = await startTestServer({
      REDIS_URL: inject('redisUrl'),
      MONGO_URL: front.url,
      MONGO_RECONNECT_AFTER: '1s',
      STORAGE_UNHEALTHY_AFTER: '3s',
    });
    const publicUrl = server.wsUrl;
    expect(await registered()).toContain(publicUrl);
    expect((await liveness()).status).toBe(200);

    front.block();
    const cutAt = Date.now();
    await vi.waitFor(async () => expect((await liveness()).status).toBe(503), {
      timeout: 20_000,
      interval: 200,
    });
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(3_000);
    expect((await liveness()).body.reason).toMatch(/^storage unreachable for \d+ s$/);
    await vi.waitFor(async () => expect(await registered()).not.toContain(publicUrl), {
      timeout: 5_000,
      interval: 100,
    });

    front.unblock();
    await vi.waitFor(async () => expect((await liveness()).status).toBe(200), {
      timeout: 20_000,
      interval: 200,
    });
    await vi.waitFor(async () => expect(await registered()).toContain(publicUrl), {
      timeout: 5_000,
      interval: 100,
    });
  });
});
