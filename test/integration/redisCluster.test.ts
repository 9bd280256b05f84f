import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SLOT_COUNT, slotOf } from '../../src/redis/slot.js';
import { LocalServices } from '../helpers/localServices.js';
import { ClusterAdmin } from '../helpers/redisCluster.js';

/** The cluster the suites get, and the operator moves the failover and resharding tests make. */
describe('the Redis Cluster of the test setup', () => {
  const admin = new ClusterAdmin(inject('redisClusterNodes'));
  afterAll(() => admin.close());

  it('has three masters that share every slot, each with a replica', async () => {
    const nodes = await admin.nodes();
    const masters = nodes.filter((node) => node.role === 'master');
    expect(masters).toHaveLength(3);
    expect(masters.reduce((sum, node) => sum + node.slots.length, 0)).toBe(SLOT_COUNT);
    for (const master of masters) {
      expect(nodes.filter((node) => node.masterId === master.id)).toHaveLength(1);
    }
  });

  it('computes the slot of a key exactly as Redis does, hash tags included', async () => {
    const [first] = await admin.masters();
    if (!first) throw new Error('no master');
    const redis = new Redis(first.port, '127.0.0.1');
    try {
      const keys = [
        'chathub:{room:general}:events',
        'chathub:{room:general}:presence',
        '{}empty-tag',
        'no-tag-at-all',
        'a{b}c{d}',
        '{unclosed',
        'héllo wörld',
        ...Array.from({ length: 200 }, (_, i) => `key-${i * 7919}`),
      ];
      for (const key of keys) expect(slotOf(key), key).toBe(await redis.cluster('KEYSLOT', key));
      expect(slotOf('chathub:{room:general}:events')).toBe(slotOf('x{room:general}y'));
    } finally {
      redis.disconnect();
    }
  });
});

describe('operating a cluster of our own', () => {
  const services = new LocalServices();
  let admin: ClusterAdmin;
  let seeds: string;

  beforeAll(async () => {
    const cluster = await services.redisCluster({ nodeTimeoutMs: 1_000 });
    seeds = cluster.seeds;
    admin = new ClusterAdmin(seeds, cluster.kill);
  });
  afterAll(async () => {
    admin?.close();
    await services.stop();
  });

  it('moves a slot with its keys to another master', async () => {
    const key = 'chathub:{room:moving}:presence';
    const from = await admin.masterOf(key);
    const direct = new Redis(from.port, '127.0.0.1');
    await direct.set(key, 'still here');
    direct.disconnect();
    const to = (await admin.masters()).find((node) => node.id !== from.id);
    if (!to) throw new Error('no other master');

    await admin.moveSlot(slotOf(key), to.address);

    expect((await admin.masterOf(key)).id).toBe(to.id);
    const target = new Redis(to.port, '127.0.0.1');
    expect(await target.get(key)).toBe('still here');
    target.disconnect();
  });

  it('promotes the replica of a killed master', async () => {
    const victim = (await admin.masters())[0];
    if (!victim) throw new Error('no master');
    const promoted = await admin.killMaster(victim.port);
    expect(promoted.id).not.toBe(victim.id);
    expect(promoted.slots).toEqual(expect.arrayContaining(victim.slots));
    expect(seeds).toContain(promoted.address);
  });
});
