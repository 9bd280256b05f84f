import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChatHubConnection } from '../../src/client/index.js';
import { failure } from '../helpers/errors.js';
import { EventLog } from '../helpers/events.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

/**
 * Redis and MongoDB go away and come back (a TCP proxy in front of each real server drops and
 * refuses connections): the server reports it, answers in words meanwhile, reconnects by itself,
 * and loses nothing it acknowledged.
 */
const database = `chathub_outage_${randomBytes(4).toString('hex')}`;
let redis: TcpProxy;
let mongo: TcpProxy;
let server: TestServer;
let alice: ChatHubConnection;
let log: EventLog;
const acknowledged: string[] = [];

async function readiness(): Promise<{ status: number; reason?: string }> {
  const response = await fetch(`${server.apiUrl}/readyz`);
  const body = (await response.json()) as { reason?: string };
  return { status: response.status, reason: body.reason };
}

/** Polls /readyz until it answers `status` (or 20 s pass); returns the last answer. */
async function readinessBecomes(status: number): Promise<{ status: number; reason?: string }> {
  let state = await readiness();
  for (let i = 0; i < 100 && state.status !== status; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    state = await readiness();
  }
  return state;
}

async function send(body: string): Promise<void> {
  acknowledged.push((await alice.chat.send.mutate({ roomId: 'general', body })).id);
}

beforeAll(async () => {
  const mongoUrl = new URL(inject('mongoUrl'));
  mongoUrl.pathname = `/${database}`;
  [redis, mongo] = await Promise.all([
    startTcpProxy(inject('redisUrl')),
    startTcpProxy(mongoUrl.toString()),
  ]);
  server = await startTestServer({ REDIS_URL: redis.url, MONGO_URL: mongo.url });
  alice = await server.user(uniqueName('alice'));
  log = EventLog.open(alice, 'general');
  await log.waitFor(() => log.online() === 1, 'alice live');
  await send('before any outage');
}, 60_000);

afterAll(async () => {
  log.close();
  await server.stop();
  await Promise.all([redis.close(), mongo.close()]);
  const client = new MongoClient(inject('mongoUrl'));
  await client.db(database).dropDatabase();
  await client.close();
});

describe('losing and regaining dependencies', { timeout: 60_000 }, () => {
  it('reports the database outage, refuses writes in words, and recovers by itself', async () => {
    mongo.block();
    const state = await readinessBecomes(503);
    // The dependency is named; its error (which can name internal hosts) goes to the log only.
    expect(state).toEqual({ status: 503, reason: 'storage unreachable' });
    expect(await failure(alice.chat.send.mutate({ roomId: 'general', body: 'lost?' }))).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The database is unavailable right now; try again in a moment',
    });

    mongo.unblock();
    expect((await readinessBecomes(200)).status).toBe(200);
    await send('after the database came back');
  });

  it('reports the pub/sub outage, keeps what it stores meanwhile, and delivers it afterwards', async () => {
    redis.block();
    const state = await readinessBecomes(503);
    expect(state).toEqual({ status: 503, reason: 'pub/sub unreachable' });
    // Stored, so acknowledged; members get it from the log once delivery works again.
    await send('while pub/sub was down');

    // A room this server does not follow yet cannot be followed: retryable, and said in words.
    const quiet = await alice.rooms.create.mutate({ name: uniqueName('quiet') });
    const refused = EventLog.open(alice, quiet.id);
    await refused.waitFor(() => refused.errors.length > 0, 'the subscription refused');
    expect(refused.errors[0]).toMatchObject({
      message: 'Chat delivery is unavailable right now; try again in a moment',
      data: { code: 'SERVICE_UNAVAILABLE' },
    });
    refused.close();
    // A room it already follows can: presence being unreachable too does not stop a feed.
    const secondTab = EventLog.open(alice, 'general');
    await secondTab.waitFor(() => secondTab.received.length > 0, 'the second tab caught up');
    expect(secondTab.received.map((r) => r.event.type)).toEqual(['snapshot']);
    secondTab.close();
    // The directory still lists rooms; only their live counts are unknown meanwhile.
    const directory = await alice.rooms.list.query({ query: quiet.name });
    expect(directory.rooms).toEqual([expect.objectContaining({ id: quiet.id, online: null })]);

    redis.unblock();
    expect((await readinessBecomes(200)).status).toBe(200);
    await send('after pub/sub came back');

    await log.waitFor(
      () => acknowledged.every((id) => log.messages().some((m) => m.id === id)),
      'every acknowledged message live',
      20_000,
    );
    const stored = await alice.chat.history.query({ roomId: 'general', limit: 100 });
    expect(stored.messages.map((m) => m.id)).toEqual(acknowledged);
  });
});
