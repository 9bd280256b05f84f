import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type { Discovery } from '../../src/discovery/discovery.js';
import {
  type ChatServerHandle,
  type ChatServerRegistration,
  createRedisDiscovery,
  registerChatServer,
} from '../../src/discovery/redis.js';
import type { RedisTarget } from '../../src/redis/connection.js';
import { redisCluster, singleRedis } from '../helpers/redisCluster.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

const redisUrl = inject('redisUrl');
const runTag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

const targets: [string, RedisTarget][] = [
  ['Redis', singleRedis(redisUrl)],
  ['Redis Cluster', redisCluster(inject('redisClusterNodes'))],
];

describe.each(targets)('%s discovery', (_name, redis) => {
  const handles: ChatServerHandle[] = [];
  const discoveries: Discovery[] = [];
  const proxies: TcpProxy[] = [];
  let counter = 0;
  // Each test gets its own namespace: servers of one test are invisible to the others.
  let keyPrefix = '';
  const fast = { ttlMs: 600, heartbeatMs: 100 };

  const register = async (
    id: string,
    connections: () => number,
    options: Partial<ChatServerRegistration> = {},
    target = redis,
  ) => {
    const handle = await registerChatServer(target, {
      serverId: id,
      publicUrl: `ws://${id}.example:8080/ws`,
      connections,
      keyPrefix,
      ...fast,
      ...options,
    });
    handles.push(handle);
    return handle;
  };
  const discover = async () => {
    const discovery = await createRedisDiscovery(redis, { keyPrefix });
    discoveries.push(discovery);
    return discovery;
  };
  const eventually = (assertion: () => Promise<void>) =>
    vi.waitFor(assertion, { timeout: 10_000, interval: 50 });

  beforeEach(() => {
    keyPrefix = `chathub-test-${runTag}-${++counter}:`;
  });
  afterEach(async () => {
    await Promise.allSettled(handles.splice(0).map((handle) => handle.deregister()));
    await Promise.all(discoveries.splice(0).map((discovery) => discovery.close()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });

  it('fails with a clear error when no chat server is registered', async () => {
    const discovery = await discover();
    await expect(discovery.chatUrl(null)).rejects.toThrow('No chat server is available');
  });

  it('points at the least-loaded live server', async () => {
    await register('busy', () => 40);
    await register('idle', () => 3);
    await register('medium', () => 12);
    const discovery = await discover();
    await expect(discovery.chatUrl('api.example')).resolves.toBe('ws://idle.example:8080/ws');
  });

  it('follows load changes with the heartbeat', async () => {
    let aLoad = 1;
    await register('a', () => aLoad);
    await register('b', () => 5);
    const discovery = await discover();
    await expect(discovery.chatUrl(null)).resolves.toBe('ws://a.example:8080/ws');
    aLoad = 9;
    await eventually(async () =>
      expect(await discovery.chatUrl(null)).toBe('ws://b.example:8080/ws'),
    );
  });

  it('forgets a server at once when it deregisters', async () => {
    const idle = await register('idle', () => 0);
    await register('busy', () => 10);
    const discovery = await discover();
    await expect(discovery.chatUrl(null)).resolves.toBe('ws://idle.example:8080/ws');
    await idle.deregister();
    await idle.deregister();
    await expect(discovery.chatUrl(null)).resolves.toBe('ws://busy.example:8080/ws');
  });

  // A TCP proxy stands in for a vanishing host; a cluster's nodes cannot be reached through one.
  if (redis.kind === 'single') {
    it('forgets a server that stops heartbeating after its TTL', async () => {
      const proxy = await startTcpProxy(redisUrl);
      proxies.push(proxy);
      await register('doomed', () => 0, {}, singleRedis(proxy.url));
      await register('survivor', () => 10);
      const discovery = await discover();
      await expect(discovery.chatUrl(null)).resolves.toBe('ws://doomed.example:8080/ws');

      proxy.block(); // The host vanishes without deregistering.
      await eventually(async () =>
        expect(await discovery.chatUrl(null)).toBe('ws://survivor.example:8080/ws'),
      );
      // The survivor keeps heartbeating well past the TTL.
      await new Promise((resolve) => setTimeout(resolve, 2 * fast.ttlMs));
      await expect(discovery.chatUrl(null)).resolves.toBe('ws://survivor.example:8080/ws');
    });

    it('comes back after a Redis outage', async () => {
      const proxy = await startTcpProxy(redisUrl);
      proxies.push(proxy);
      await register('flaky', () => 0, {}, singleRedis(proxy.url));
      const discovery = await discover();
      proxy.block();
      await eventually(async () =>
        expect(discovery.chatUrl(null)).rejects.toThrow('No chat server is available'),
      );
      proxy.unblock();
      await eventually(async () =>
        expect(await discovery.chatUrl(null)).toBe('ws://flaky.example:8080/ws'),
      );
    });
  }

  it('spreads clients over equally loaded servers', async () => {
    await register('one', () => 2);
    await register('two', () => 2);
    const discovery = await discover();
    const seen = new Set<string>();
    await eventually(async () => {
      seen.add(await discovery.chatUrl(null));
      expect(seen.size).toBe(2);
    });
  });
});
