import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { RedisConnection, type RedisTarget } from '../../src/redis/connection.js';
import { freePort } from '../helpers/ports.js';
import { ClusterAdmin, redisCluster, singleRedis } from '../helpers/redisCluster.js';

/** The connection helper every Redis adapter uses, on one server and on the suite's cluster. */
const clusterNodes = inject('redisClusterNodes');
const admin = new ClusterAdmin(clusterNodes);
const opened: RedisConnection[] = [];
const open = async (target: RedisTarget, name = 'chathub-test-connection') => {
  const connection = await RedisConnection.open(target, { name, onError: () => {} }, 'Test');
  opened.push(connection);
  return connection;
};
const keys = Array.from({ length: 60 }, (_, i) => `chathub-test:{room:connection-${i}}:presence`);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((connection) => connection.quit()));
});
afterAll(() => admin.close());

describe('RedisConnection on a cluster', () => {
  it('knows which master serves each key, as the cluster does', async () => {
    const connection = await open(redisCluster(clusterNodes));
    for (const key of keys.slice(0, 12)) {
      expect(connection.nodeOf(key), key).toBe((await admin.masterOf(key)).address);
    }
  });

  it('groups keys by the node that serves them, one group per master in use', async () => {
    const connection = await open(redisCluster(clusterNodes));
    const groups = connection.groupByNode(keys, (key) => key);
    expect(groups.flat().sort()).toEqual([...keys].sort());
    const owners = await Promise.all(
      groups.map(async (group) => new Set(await Promise.all(group.map((k) => admin.masterOf(k))))),
    );
    for (const owner of owners) expect(new Set([...owner].map((node) => node.id)).size).toBe(1);
    expect(new Set(owners.map((owner) => [...owner][0]?.id)).size).toBe(groups.length);
    expect(groups).toHaveLength((await admin.masters()).length);
    // Each group can go out as one pipeline.
    for (const group of groups) {
      const pipeline = connection.client.pipeline();
      for (const key of group) pipeline.exists(key);
      const replies = await pipeline.exec();
      expect(replies?.every(([error]) => error === null)).toBe(true);
    }
  });

  it('answers ping while every master answers', async () => {
    const connection = await open(redisCluster(clusterNodes));
    await expect(connection.ping()).resolves.toBeUndefined();
  });

  it('names the seeds when none of them can be reached', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const target = redisCluster(`127.0.0.1:${a},127.0.0.1:${b}`);
    await expect(open(target)).rejects.toThrow(
      `Test: cannot connect to the Redis Cluster (127.0.0.1:${a},127.0.0.1:${b})`,
    );
  });
});

describe('RedisConnection on one server', () => {
  it('puts every key on the one server, in one group', async () => {
    const url = inject('redisUrl');
    const connection = await open(singleRedis(url));
    expect(new Set(keys.map((key) => connection.nodeOf(key)))).toEqual(new Set([url]));
    expect(connection.groupByNode(keys, (key) => key)).toEqual([keys]);
    expect(connection.groupByNode([], (key) => key)).toEqual([]);
    await expect(connection.ping()).resolves.toBeUndefined();
  });
});
