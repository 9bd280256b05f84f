import { spawn } from 'node:child_process';
import { Cluster, Redis } from 'ioredis';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  inject,
  it,
  vi,
} from 'vitest';
import type { ChatServerRegistration, Discovery } from '../../src/discovery/discovery.js';
import { createRedisDiscovery, type RedisDiscoveryOptions } from '../../src/discovery/redis.js';
import type { RedisTarget } from '../../src/redis/connection.js';
import { redisCluster, singleRedis } from '../helpers/redisCluster.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const redisUrl = inject('redisUrl');
const clusterNodes = inject('redisClusterNodes');
const runTag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

const targets: [string, RedisTarget, Record<string, string>][] = [
  ['Redis', singleRedis(redisUrl), { REDIS_URL: redisUrl }],
  ['Redis Cluster', redisCluster(clusterNodes), { REDIS_CLUSTER_NODES: clusterNodes }],
];

describe.each(targets)('%s discovery', (_name, redis, redisEnv) => {
  let admin: Redis | Cluster;
  const registrations: ChatServerRegistration[] = [];
  const discoveries: Discovery[] = [];
  const proxies: TcpProxy[] = [];
  let counter = 0;
  // Each test gets its own namespace: servers of one test are invisible to the others.
  let keyPrefix = '';
  const fast = { heartbeatMs: 100, staleAfterMs: 400, ttlMs: 5_000 };

  const open = async (options: RedisDiscoveryOptions = {}, target = redis) => {
    const discovery = await createRedisDiscovery(target, { keyPrefix, ...fast, ...options });
    discoveries.push(discovery);
    return discovery;
  };
  /** Registers a chat server through its own discovery client (its own connection to Redis). */
  const register = async (
    id: string,
    connections: () => number,
    {
      target = redis,
      available = () => true,
      ttlMs,
    }: { target?: RedisTarget; available?: () => boolean; ttlMs?: number } = {},
  ) => {
    const discovery = await open(ttlMs ? { ttlMs } : {}, target);
    const registration = await discovery.register({
      serverId: id,
      publicUrl: urlOf(id),
      connections,
      available,
    });
    registrations.push(registration);
    return registration;
  };
  const urlOf = (id: string) => `ws://${id}.example:8080/ws`;
  const serverKey = (id: string) => `${keyPrefix}{discovery}:server:${id}`;
  /** A chat server's connection to Redis that a test can cut (one Redis only: a cluster's nodes
   *  cannot all be reached through one proxy). */
  const cuttable = async () => {
    const proxy = await startTcpProxy(redisUrl);
    proxies.push(proxy);
    return proxy;
  };
  const eventually = (assertion: () => Promise<void>) =>
    vi.waitFor(assertion, { timeout: 10_000, interval: 50 });

  beforeAll(() => {
    admin = redis.kind === 'single' ? new Redis(redisUrl) : new Cluster(redis.nodes.map((n) => n));
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(() => {
    keyPrefix = `chathub-test-${runTag}-${++counter}:`;
  });
  afterEach(async () => {
    await Promise.allSettled(registrations.splice(0).map((handle) => handle.deregister()));
    await Promise.all(discoveries.splice(0).map((discovery) => discovery.close()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });

  it('fails with a clear error when no chat server is registered', async () => {
    const discovery = await open();
    await expect(discovery.chatUrl(null)).rejects.toThrow('No chat server is available');
  });

  it('points at the least-loaded live server', async () => {
    await register('busy', () => 40);
    await register('idle', () => 3);
    await register('medium', () => 12);
    const discovery = await open();
    await expect(discovery.chatUrl('api.example')).resolves.toBe(urlOf('idle'));
  });

  it('follows load changes with the heartbeat', async () => {
    let aLoad = 1;
    await register('a', () => aLoad);
    await register('b', () => 5);
    const discovery = await open();
    await expect(discovery.chatUrl(null)).resolves.toBe(urlOf('a'));
    aLoad = 9;
    await eventually(async () => expect(await discovery.chatUrl(null)).toBe(urlOf('b')));
  });

  it('forgets a server at once when it deregisters', async () => {
    const idle = await register('idle', () => 0);
    await register('busy', () => 10);
    const discovery = await open();
    await expect(discovery.chatUrl(null)).resolves.toBe(urlOf('idle'));
    await idle.deregister();
    await idle.deregister();
    await expect(discovery.chatUrl(null)).resolves.toBe(urlOf('busy'));
  });

  it('stops handing out a killed chat server within three seconds with the default settings', async () => {
    const registrant = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/registrant.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        ...redisEnv,
        KEY_PREFIX: keyPrefix,
        SERVER_ID: 'killed',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => registrant.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        registrant.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('registered')) resolve();
        });
        registrant.once('exit', (code) => reject(new Error(`registrant exited with ${code}`)));
      });
      const defaults = { heartbeatMs: undefined, staleAfterMs: undefined, ttlMs: undefined };
      await register('survivor', () => 10);
      const discovery = await open(defaults);
      await expect(discovery.chatUrl(null)).resolves.toBe(urlOf('killed'));

      registrant.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      await vi.waitFor(async () => expect(await discovery.chatUrl(null)).toBe(urlOf('survivor')), {
        timeout: 10_000,
        interval: 50,
      });
      // Three seconds without a heartbeat, plus the last heartbeat's age and a loaded machine.
      expect(Date.now() - killedAt).toBeLessThan(5_000);
      expect(await admin.pttl(serverKey('killed'))).toBeGreaterThan(5_000);
    } finally {
      registrant.kill('SIGKILL');
    }
  });

  it('withdraws a server while it cannot serve, and lists it again when it can', async () => {
    let available = true;
    await register('wobbly', () => 0, { available: () => available });
    await register('steady', () => 10);
    const discovery = await open();
    await expect(discovery.chatUrl(null)).resolves.toBe(urlOf('wobbly'));
    available = false;
    await eventually(async () => expect(await discovery.chatUrl(null)).toBe(urlOf('steady')));
    expect(await admin.exists(serverKey('wobbly'))).toBe(0);
    available = true;
    await eventually(async () => expect(await discovery.chatUrl(null)).toBe(urlOf('wobbly')));
  });

  it('spreads clients over equally loaded servers', async () => {
    await register('one', () => 2);
    await register('two', () => 2);
    const discovery = await open();
    const seen = new Set<string>();
    await eventually(async () => {
      seen.add(await discovery.chatUrl(null));
      expect(seen.size).toBe(2);
    });
  });

  it('refuses settings where a server would go stale between heartbeats', async () => {
    await expect(open({ heartbeatMs: 1_000, staleAfterMs: 500 })).rejects.toThrow(
      'need 0 < heartbeatMs (1000) < staleAfterMs (500) <= ttlMs',
    );
  });

  // These cut a chat server's connection with a TCP proxy: on one Redis only.
  if (redis.kind === 'single') {
    it('stops handing out a server it has not heard from within staleAfterMs, long before its registration expires', async () => {
      const proxy = await cuttable();
      await register('doomed', () => 0, { target: singleRedis(proxy.url) });
      await register('survivor', () => 10);
      const discovery = await open();
      await expect(discovery.chatUrl(null)).resolves.toBe(urlOf('doomed'));

      proxy.block(); // The host vanishes without deregistering.
      const vanishedAt = Date.now();
      await eventually(async () => expect(await discovery.chatUrl(null)).toBe(urlOf('survivor')));
      expect(Date.now() - vanishedAt).toBeLessThan(fast.ttlMs);
      expect(await admin.exists(serverKey('doomed'))).toBe(1);
      // Never handed out again while a fresh server exists.
      for (let i = 0; i < 20; i++)
        await expect(discovery.chatUrl(null)).resolves.toBe(urlOf('survivor'));
    });

    it('hands out a stale server as a last resort, when none is fresh, until it expires', async () => {
      const proxy = await cuttable();
      await register('lonely', () => 0, { target: singleRedis(proxy.url), ttlMs: 1_500 });
      const discovery = await open();
      proxy.block();
      await new Promise((resolve) => setTimeout(resolve, 2 * fast.staleAfterMs));
      await expect(discovery.chatUrl(null)).resolves.toBe(urlOf('lonely'));
      await eventually(async () =>
        expect(discovery.chatUrl(null)).rejects.toThrow('No chat server is available'),
      );
    });

    it('comes back after a Redis outage', async () => {
      const proxy = await cuttable();
      await register('flaky', () => 0, { target: singleRedis(proxy.url), ttlMs: 1_000 });
      const discovery = await open();
      proxy.block();
      await eventually(async () =>
        expect(discovery.chatUrl(null)).rejects.toThrow('No chat server is available'),
      );
      proxy.unblock();
      await eventually(async () => expect(await discovery.chatUrl(null)).toBe(urlOf('flaky')));
    });
  }
});
