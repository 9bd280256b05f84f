import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { expect, inject, it } from 'vitest';

// The real servers every networked suite relies on answer (started by test/setup/services.ts).
it('reaches Redis and the MongoDB-protocol server', async () => {
  const redis = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  expect(await redis.ping()).toBe('PONG');
  redis.disconnect();

  const mongo = new MongoClient(inject('mongoUrl'), { serverSelectionTimeoutMS: 5_000 });
  await mongo.connect();
  expect((await mongo.db('admin').command({ ping: 1 })).ok).toBe(1);
  await mongo.close();
});
