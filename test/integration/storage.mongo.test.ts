import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { VoteValue } from '../../src/contract/schemas.js';
import { createUlidFactory } from '../../src/domain/ids.js';
import { openMongoStore } from '../../src/storage/mongo.js';
import { describeStoreContract } from '../contract/store.contract.js';

// FerretDB from the global setup, or the server MONGO_URL names.
const url = inject('mongoUrl');
const runTag = randomBytes(6).toString('hex');
/** Every database this file creates, dropped at the end. */
const databases: string[] = [];
const database = (suffix = '') => {
  const name = `chathub_test_${runTag}${suffix}`;
  databases.push(name);
  return name;
};

afterAll(async () => {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  try {
    for (const name of databases) await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
});

// Every open() is a new client over the same database, as the durability test needs.
const contractDb = database();
describeStoreContract('MongoDB', () => openMongoStore(url, { dbName: contractDb }));

describe('MongoDB store', () => {
  it('opens twice at once on a fresh database (idempotent index creation)', async () => {
    const dbName = database('_fresh');
    const stores = await Promise.all([
      openMongoStore(url, { dbName }),
      openMongoStore(url, { dbName }),
    ]);
    try {
      const [a, b] = stores;
      await a?.users.create({ id: 'u1', username: 'Dana', passwordHash: 'h', createdAt: 1 });
      // The unique index is in place, whichever process created it.
      await expect(
        b?.users.create({ id: 'u2', username: 'DANA', passwordHash: 'h', createdAt: 2 }),
      ).rejects.toThrow('username already exists');
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('keeps the log exact when several processes write one room at once', async () => {
    // Separate clients stand in for separate server processes sharing the database.
    const dbName = database('_shared');
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openMongoStore(url, { dbName })),
    );
    try {
      const ulid = createUlidFactory();
      const roomId = 'shared-room';
      await stores[0]?.rooms.create({ id: roomId, name: roomId, createdAt: 1 });
      const messageId = ulid();
      await stores[0]?.messages.append({
        id: messageId,
        roomId,
        author: { id: 'a', username: 'a' },
        body: 'vote on me',
        createdAt: 1,
        up: 0,
        down: 0,
      });
      const votes: [string, VoteValue][] = Array.from({ length: 40 }, (_, i) => [
        `voter-${i}`,
        i % 3 === 0 ? 'down' : 'up',
      ]);
      const outcomes = await Promise.all([
        ...votes.map(([voter, value], i) =>
          stores[i % stores.length]?.messages.vote(messageId, voter, value),
        ),
        ...Array.from({ length: 8 }, (_, i) =>
          stores[i % stores.length]?.messages.append({
            id: ulid(),
            roomId,
            author: { id: 'a', username: 'a' },
            body: `concurrent ${i}`,
            createdAt: 2,
            up: 0,
            down: 0,
          }),
        ),
      ]);
      expect(outcomes.every((outcome) => outcome !== null)).toBe(true);

      const log = (await stores[1]?.messages.eventsAfter(roomId, 0, 1000)) ?? [];
      expect(log.map((entry) => entry.seq)).toEqual(Array.from({ length: 49 }, (_, i) => i + 1));
      let up = 0;
      let down = 0;
      for (const { event } of log) {
        if (event.type !== 'vote') continue;
        if (event.vote === 'up') up++;
        else down++;
        expect({ up: event.up, down: event.down }).toEqual({ up, down });
      }
      const snapshot = await stores[2]?.messages.snapshot(roomId, 100, 'nobody');
      expect(snapshot?.head).toBe(49);
      expect(snapshot?.messages).toHaveLength(9);
      expect(snapshot?.messages[0]).toMatchObject({ id: messageId, up: 26, down: 14 });
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('rolls forward an entry whose writer died before applying it', async () => {
    const dbName = database('_recover');
    const store = await openMongoStore(url, { dbName });
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
    try {
      const roomId = 'recover-room';
      await store.rooms.create({ id: roomId, name: roomId, createdAt: 1 });
      const message = {
        id: createUlidFactory()(),
        roomId,
        author: { id: 'a', username: 'a' },
        body: 'committed, never applied',
        createdAt: 1,
        up: 0,
        down: 0,
      };
      // What a writer leaves behind when it dies right after committing its log entry.
      await client
        .db(dbName)
        .collection('events')
        .insertOne({ roomId, seq: 1, payload: { type: 'message', message } });

      await expect(store.messages.head(roomId)).resolves.toBe(1);
      await expect(store.messages.snapshot(roomId, 10, 'viewer')).resolves.toEqual({
        head: 1,
        messages: [{ ...message, myVote: null }],
        hasMore: false,
      });
      const next = await store.messages.vote(message.id, 'u1', 'up');
      expect(next?.entry?.seq).toBe(2);
    } finally {
      await client.close();
      await store.close();
    }
  });
});
