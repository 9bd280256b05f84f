import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SLOT_COUNT, slotOf } from '../../src/redis/slot.js';
import { ClusterAdmin } from '../helpers/redisCluster.js';

/**
 * The cluster the suites get. (The operator moves, killing a master and moving a slot, are used and
 * checked by redisCluster.faults.test.ts on a cluster of its own.)
 */
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
