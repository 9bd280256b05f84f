import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WebSocket } from 'ws';
import { createMemoryBus } from '../../src/bus/memory.js';
import { CLOSE_TOO_SLOW } from '../../src/chat/wsTransport.js';
import { type ChatHubConnection, createApiClient } from '../../src/client/index.js';
import { LIMITS } from '../../src/contract/limits.js';
import { createStaticDiscovery } from '../../src/discovery/static.js';
import type { Logger } from '../../src/log.js';
import { createMemoryPresence } from '../../src/presence/memory.js';
import type { StartOptions } from '../../src/server.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import type { Store } from '../../src/storage/store.js';
import { failure } from '../helpers/errors.js';
import { EventLog } from '../helpers/events.js';
import { getMetrics, type Scrape, scrape, scrapeUntil } from '../helpers/metrics.js';
import { RawSocket } from '../helpers/rawSocket.js';
import { PASSWORD, startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import { startTcpProxy } from '../helpers/tcpProxy.js';
import { pollUntil } from '../helpers/wait.js';

/**
 * GET /metrics on a real server after real traffic over real sockets (the typed client, signed in
 * over HTTP): every counter moves by exactly what the traffic did, the gauges say what is open,
 * and the endpoint is only served where it is configured to be.
 */

const TOKEN = 'metrics-token-that-is-long-enough-0123456789';
/** Members of the room, and messages each of them receives. */
const MEMBERS = 3;
const MESSAGES = 5;

const connections = (s: Scrape, state: 'authenticated' | 'unauthenticated') =>
  s.sample('chathub_ws_connections', { state });
const calls = (s: Scrape, procedure: string, result: string) =>
  s.count('chathub_procedure_calls_total', { procedure, result });
const deliveries = (s: Scrape, type: string) => s.count('chathub_deliveries_total', { type });
const LATENCY = 'chathub_message_delivery_latency_seconds';

describe('GET /metrics after real traffic', () => {
  let server: TestServer;
  const metricsOf = () => scrape(`${server.apiUrl}/metrics`, TOKEN);
  const transport = () => {
    if (!server.running.chat) throw new Error('no chat role');
    return server.running.chat.transport;
  };

  beforeAll(async () => {
    server = await startTestServer(
      { METRICS_TOKEN: TOKEN },
      // One sender's burst is the messages of the test, so the next one is refused.
      { rateLimits: { messages: { burst: MESSAGES, perSecond: 0.001 } } },
    );
  });
  afterAll(() => server.stop());

  it('counts connections, deliveries, accepted and refused calls and latency exactly', async () => {
    const before = await metricsOf();
    expect(connections(before, 'authenticated')).toBe(0);
    expect(connections(before, 'unauthenticated')).toBe(0);

    const roomId = (await server.running.services.rooms.create(uniqueName('metrics'))).id;
    const members: ChatHubConnection[] = [];
    for (let i = 0; i < MEMBERS; i++) members.push(await server.user(uniqueName(`member${i}-`)));
    const logs = members.map((member) => EventLog.open(member, roomId));
    await Promise.all(logs.map((log) => log.waitFor(() => log.online() === MEMBERS, 'all online')));

    const joined = await metricsOf();
    expect(connections(joined, 'authenticated')).toBe(MEMBERS);
    expect(connections(joined, 'unauthenticated')).toBe(0);
    expect(joined.sample('chathub_local_rooms')).toBe(1);
    expect(joined.sample('chathub_local_room_members')).toBe(MEMBERS);
    expect(joined.sample('chathub_discovery_announced_connections')).toBe(MEMBERS);
    expect(joined.sample('chathub_discovery_available')).toBe(1);

    const [sender, upvoter, downvoter] = members;
    if (!sender || !upvoter || !downvoter) throw new Error('three members expected');
    const sent = [];
    for (let i = 0; i < MESSAGES; i++) {
      sent.push(await sender.chat.send.mutate({ roomId, body: `message ${i}` }));
    }
    const tooLong = 'x'.repeat(LIMITS.messageMax + 1);
    expect((await failure(sender.chat.send.mutate({ roomId, body: tooLong }))).code).toBe(
      'BAD_REQUEST',
    );
    expect((await failure(sender.chat.send.mutate({ roomId, body: 'one too many' }))).code).toBe(
      'TOO_MANY_REQUESTS',
    );
    await upvoter.chat.vote.mutate({ messageId: sent[0]?.id ?? '', vote: 'up' });
    await downvoter.chat.vote.mutate({ messageId: sent[1]?.id ?? '', vote: 'down' });
    const votes = (log: EventLog) => log.received.filter((r) => r.event.type === 'vote').length;
    await Promise.all(
      logs.map((log) =>
        log.waitFor(() => log.messages().length === MESSAGES && votes(log) === 2, 'all of it'),
      ),
    );

    const after = await metricsOf();
    const delta = (read: (s: Scrape) => number) => read(after) - read(before);
    expect(delta((s) => deliveries(s, 'message'))).toBe(MESSAGES * MEMBERS);
    expect(delta((s) => deliveries(s, 'vote'))).toBe(2 * MEMBERS);
    expect(delta((s) => calls(s, 'chat.send', 'ok'))).toBe(MESSAGES);
    expect(delta((s) => calls(s, 'chat.send', 'BAD_REQUEST'))).toBe(1);
    expect(delta((s) => calls(s, 'chat.send', 'TOO_MANY_REQUESTS'))).toBe(1);
    expect(delta((s) => calls(s, 'chat.vote', 'ok'))).toBe(2);
    expect(delta((s) => calls(s, 'chat.events', 'ok'))).toBe(MEMBERS);
    // Over HTTP, on the same process (ROLE=all): each member signed up and in once.
    expect(delta((s) => calls(s, 'auth.signUp', 'ok'))).toBe(MEMBERS);
    expect(delta((s) => calls(s, 'auth.signIn', 'ok'))).toBe(MEMBERS);
    // One latency per message dispatched (not per member), every one within the largest bucket.
    expect(after.families.get(LATENCY)).toBe('histogram');
    expect(delta((s) => s.count(`${LATENCY}_count`))).toBe(MESSAGES);
    expect(delta((s) => s.count(`${LATENCY}_bucket`, { le: '+Inf' }))).toBe(MESSAGES);
    expect(delta((s) => s.count(`${LATENCY}_bucket`, { le: '10' }))).toBe(MESSAGES);
    expect(after.count('chathub_slow_consumers_dropped_total')).toBe(0);
    expect(after.count('chathub_dependency_errors_total', { dependency: 'store' })).toBe(0);

    // One member leaves, and a socket opens that never signs in.
    await downvoter.close();
    await pollUntil(() => transport().connectionCount() === MEMBERS - 1);
    const anonymous = new WebSocket(`${server.wsUrl}?connectionParams=1`);
    await new Promise((resolve) => anonymous.once('open', resolve));
    const left = await metricsOf();
    expect(connections(left, 'authenticated')).toBe(MEMBERS - 1);
    expect(connections(left, 'unauthenticated')).toBe(1);
    expect(left.sample('chathub_local_room_members')).toBe(MEMBERS - 1);
    expect(left.sample('chathub_discovery_announced_connections')).toBe(MEMBERS - 1);

    // Asking every open socket to reconnect (as a drain does) counts each one.
    transport().broadcastReconnect();
    const asked = await metricsOf();
    expect(asked.count('chathub_reconnects_requested_total')).toBe(MEMBERS - 1 + 1);
    anonymous.close();
  });

  it('serves Node process and event-loop metrics beside ChatHub’s own', async () => {
    const response = await getMetrics(`${server.apiUrl}/metrics`, TOKEN);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const metrics = await metricsOf();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(metrics.families.has(name), name).toBe(true);
    }
    const own = [...metrics.families.keys()].filter((name) => name.startsWith('chathub_'));
    expect(own.sort()).toEqual([
      'chathub_deliveries_total',
      'chathub_dependency_errors_total',
      'chathub_discovery_announced_connections',
      'chathub_discovery_available',
      'chathub_local_room_members',
      'chathub_local_rooms',
      LATENCY,
      'chathub_procedure_calls_total',
      'chathub_reconnects_requested_total',
      'chathub_room_hub_errors_total',
      'chathub_slow_consumers_dropped_total',
      'chathub_ws_connections',
      'chathub_ws_largest_backlog_bytes',
    ]);
  });

  it('answers 401 without the bearer token, or with a wrong one', async () => {
    for (const token of [undefined, `${TOKEN}x`, TOKEN.slice(1)]) {
      const response = await getMetrics(`${server.apiUrl}/metrics`, token);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(response.body).not.toContain('chathub_');
    }
    const post = await fetch(`${server.apiUrl}/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(post.status).toBe(405);
  });
});

describe('a slow consumer', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(
      { METRICS_TOKEN: TOKEN },
      {
        // Small, so that a client that stops reading passes it with one burst of requests.
        transportLimits: { maxBufferedBytes: 64 * 1024, closeTimeoutMs: 2_000 },
        rateLimits: { messages: { burst: LIMITS.historyPageMax, perSecond: 1 } },
      },
    );
  });
  afterAll(() => server.stop());

  it('is counted once when it is dropped', async () => {
    const { user, token } = await server.fastUser(uniqueName('author'));
    const roomId = (await server.running.services.rooms.create(uniqueName('long'))).id;
    for (let i = 0; i < LIMITS.historyPageMax; i++) {
      const body = `${i} `.padEnd(LIMITS.messageMax, 'x');
      await server.running.services.chat.send(user, { roomId, body });
    }
    const raw = await RawSocket.open(server.wsUrl, token);
    raw.request(0, 'subscription', 'chat.events', { roomId });
    await raw.response(0);
    // It stops reading and asks, within its request burst, for far more than socket buffers hold.
    raw.ws.pause();
    const pages = 90;
    for (let id = 1; id <= pages; id++) {
      raw.request(id, 'query', 'chat.history', { roomId, limit: LIMITS.historyPageMax });
    }
    await pollUntil(() => server.running.services.hub.localMembers() === 0, 20_000);
    raw.ws.resume();
    await raw.until(() => raw.closed !== null, 'close', 10_000);
    expect(raw.closed?.code).toBe(CLOSE_TOO_SLOW);

    const metrics = await scrape(`${server.apiUrl}/metrics`, TOKEN);
    expect(metrics.count('chathub_slow_consumers_dropped_total')).toBe(1);
  });
});

describe('dependency errors', () => {
  const errors = (s: Scrape, dependency: string) =>
    s.count('chathub_dependency_errors_total', { dependency });

  it('counts Redis trouble: failed heartbeats, and a message stored but not published', async () => {
    const redis = await startTcpProxy(inject('redisUrl'));
    const server = await startTestServer({ REDIS_URL: redis.url, METRICS_TOKEN: TOKEN });
    const url = `${server.apiUrl}/metrics`;
    try {
      const { user } = await server.fastUser(uniqueName('author'));
      const roomId = (await server.running.services.rooms.create(uniqueName('outage'))).id;
      const before = await scrape(url, TOKEN);
      redis.block();
      // Discovery announces this server every second: its heartbeat fails first.
      await scrapeUntil(url, TOKEN, (s) => errors(s, 'discovery') > errors(before, 'discovery'));
      const stored = await server.running.services.chat.send(user, { roomId, body: 'kept' });
      expect(stored.body).toBe('kept');
      const after = await scrape(url, TOKEN);
      expect(errors(after, 'bus')).toBeGreaterThan(errors(before, 'bus'));
      expect(errors(after, 'store')).toBe(errors(before, 'store'));
    } finally {
      redis.unblock();
      await server.stop();
      await redis.close();
    }
  });

  it('counts failed storage probes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chathub-metrics-store-'));
    const inner = openSqliteStore(join(dataDir, 'chathub.db'));
    let reachable = true;
    const store: Store = {
      users: inner.users,
      rooms: inner.rooms,
      messages: inner.messages,
      ping: () => (reachable ? inner.ping() : Promise.reject(new Error('the database is down'))),
      close: () => inner.close(),
    };
    const server = await startTestServer(
      { METRICS_TOKEN: TOKEN },
      {
        adapters: {
          store,
          bus: createMemoryBus(),
          presence: createMemoryPresence(),
          discovery: createStaticDiscovery(undefined, 'localhost'),
        },
      },
    );
    try {
      const url = `${server.apiUrl}/metrics`;
      expect(errors(await scrape(url, TOKEN), 'store')).toBe(0);
      reachable = false;
      // Storage is probed every two seconds.
      await scrapeUntil(url, TOKEN, (s) => errors(s, 'store') >= 1);
    } finally {
      reachable = true;
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('where /metrics is served', () => {
  const servers: TestServer[] = [];
  const start = async (env: Record<string, string>, opts: StartOptions = {}, log?: Logger) => {
    const server = await startTestServer(env, opts, log);
    servers.push(server);
    return server;
  };
  /** A web app whose index answers every path without a file (client-side routes). */
  const webRoot = mkdtempSync(join(tmpdir(), 'chathub-web-'));
  writeFileSync(join(webRoot, 'index.html'), '<html>the web app</html>');
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('nowhere by default: 404 on the public port, not the web app', async () => {
    const server = await start({}, { webRoot });
    expect(server.running.metricsPort).toBeNull();
    const response = await getMetrics(`${server.apiUrl}/metrics`);
    expect(response.status).toBe(404);
    expect(response.body).not.toContain('the web app');
    expect(await (await fetch(`${server.apiUrl}/rooms`)).text()).toContain('the web app');
  });

  it('on a port of its own: 404 on the public port, no chat metrics on an API server', async () => {
    const server = await start({ ROLE: 'api', METRICS_PORT: '0' });
    const port = server.running.metricsPort;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(server.running.port);
    expect((await getMetrics(`${server.apiUrl}/metrics`)).status).toBe(404);
    expect((await getMetrics(`http://127.0.0.1:${port}/healthz`)).status).toBe(404);

    const signUp = { username: uniqueName('someone'), password: PASSWORD };
    await createApiClient(server.apiUrl).auth.signUp.mutate(signUp);
    const metrics = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(calls(metrics, 'auth.signUp', 'ok')).toBe(1);
    expect(metrics.families.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(metrics.families.has('chathub_ws_connections')).toBe(false);
    expect(metrics.families.has('chathub_deliveries_total')).toBe(false);
  });

  it('on its own port with a token: 401 without it; the token is never logged', async () => {
    const lines: string[] = [];
    const write = (message: string, fields?: Record<string, unknown>) => {
      lines.push(JSON.stringify({ message, ...fields }));
    };
    const log: Logger = { debug: write, info: write, warn: write, error: write };
    const env = { ROLE: 'chat', METRICS_PORT: '0', METRICS_TOKEN: TOKEN };
    const server = await start(env, {}, log);
    const url = `http://127.0.0.1:${server.running.metricsPort}/metrics`;
    expect((await getMetrics(url)).status).toBe(401);
    expect((await getMetrics(url, TOKEN)).status).toBe(200);
    expect((await getMetrics(`${server.apiUrl}/metrics`, TOKEN)).status).toBe(404);
    expect(lines.some((line) => line.includes('"metrics":"own-port"'))).toBe(true);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});
