import { randomBytes } from 'node:crypto';
import { type Document, MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { LoggedEvent } from '../../src/contract/events.js';
import { AS_SENT, type Message } from '../../src/contract/models.js';
import type { VoteValue } from '../../src/contract/schemas.js';
import { createUlidFactory } from '../../src/domain/ids.js';
import { STORAGE_LIMITS } from '../../src/limits.js';
import { eventKey, openMongoStore } from '../../src/storage/mongo.js';
import type { Store } from '../../src/storage/store.js';
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
        ...AS_SENT,
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
            ...AS_SENT,
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

  describe('the log on disk', () => {
    const ulid = createUlidFactory();
    const author = { id: 'a', username: 'a' };
    const message = (roomId: string, body: string): Message => ({
      id: ulid(),
      roomId,
      author,
      body,
      createdAt: 1,
      up: 0,
      down: 0,
      ...AS_SENT,
    });
    const vote = (
      target: Message,
      voterId: string,
      value: VoteValue,
      up: number,
      down: number,
    ): LoggedEvent => ({ type: 'vote', messageId: target.id, up, down, voterId, vote: value });

    let client: MongoClient;
    let dbName: string;
    let store: Store;
    beforeEach(async () => {
      dbName = database(`_disk${databases.length}`);
      store = await openMongoStore(url, { dbName });
      client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
    });
    afterEach(async () => {
      await client.close();
      await store.close();
    });
    /** Raw documents: string ids for keyed entries, rooms and claims; ObjectIds when left out. */
    const collection = (name: string) =>
      client.db(dbName).collection<Document & { _id?: string }>(name);
    const newRoom = async (roomId: string) => {
      await store.rooms.create({ id: roomId, name: roomId, createdAt: 1 });
      return roomId;
    };
    /** What a writer leaves behind when it dies right after its insert, before applying it. */
    const diedAfterInserting = (roomId: string, from: number, payloads: LoggedEvent[]) =>
      collection('events').insertMany(
        payloads.map((payload, index) => ({
          _id: eventKey(roomId, from + index),
          roomId,
          seq: from + index,
          payload,
          batchEnd: from + payloads.length - 1,
        })),
      );

    it('rolls forward an insert whose writer died before applying it, on the next read', async () => {
      const roomId = await newRoom('died-before-applying');
      const first = message(roomId, 'applied');
      const second = message(roomId, 'logged, never applied');
      await store.messages.append(first);
      await diedAfterInserting(roomId, 2, [
        vote(first, 'u1', 'up', 1, 0),
        { type: 'message', message: second },
        vote(second, 'u2', 'down', 0, 1),
      ]);

      await expect(store.messages.head(roomId)).resolves.toBe(4);
      await expect(store.messages.snapshot(roomId, 10, 'u1')).resolves.toEqual({
        head: 4,
        messages: [
          { ...first, up: 1, myVote: 'up' },
          { ...second, down: 1, myVote: null },
        ],
        hasMore: false,
        pinned: [],
      });
      // The dead writer's vote counts as cast: repeating it changes nothing.
      await expect(store.messages.vote(first.id, 'u1', 'up')).resolves.toEqual({
        roomId,
        up: 1,
        down: 0,
        entry: null,
      });
    });

    it("a writer whose insert meets a dead writer's entries applies them, then decides after them", async () => {
      const roomId = await newRoom('writer-meets-dead-insert');
      const first = message(roomId, 'applied');
      const second = message(roomId, 'logged, never applied');
      await store.messages.append(first);
      // A second process, which has not written this room yet.
      const other = await openMongoStore(url, { dbName });
      try {
        await diedAfterInserting(roomId, 2, [
          { type: 'message', message: second },
          vote(first, 'u1', 'down', 0, 1),
        ]);
        // Decided at first from the applied state (u1 has no vote), then again after entry 3.
        await expect(other.messages.vote(first.id, 'u1', 'up')).resolves.toEqual({
          roomId,
          up: 1,
          down: 0,
          entry: { seq: 4, event: vote(first, 'u1', 'up', 1, 0) },
        });
      } finally {
        await other.close();
      }
      await expect(store.messages.snapshot(roomId, 10, 'u1')).resolves.toEqual({
        head: 4,
        messages: [
          { ...first, up: 1, myVote: 'up' },
          { ...second, myVote: null },
        ],
        hasMore: false,
        pinned: [],
      });
    });

    it('a removal whose writer died before applying it is applied, and scrubbed, on the next read', async () => {
      const roomId = await newRoom('removal-died-before-applying');
      const target = message(roomId, 'secret words');
      await store.messages.append(target);
      await store.messages.edit(target.id, 'more secret words', 2);
      await diedAfterInserting(roomId, 3, [
        { type: 'remove', messageId: target.id, removedAt: 3, by: 'author' },
      ]);

      await expect(store.messages.head(roomId)).resolves.toBe(3);
      const stored = JSON.stringify(await collection('events').find({ roomId }).toArray());
      expect(stored).not.toContain('secret');
      await expect(store.messages.get(target.id)).resolves.toMatchObject({
        body: '',
        removed: true,
      });
    });

    it('decides a retried send from the log, also after its first writer died before applying it', async () => {
      const roomId = await newRoom('send-died-before-applying');
      const first = { ...message(roomId, 'once'), clientMessageId: 'tx-1' };
      await diedAfterInserting(roomId, 1, [{ type: 'message', message: first }]);
      const retry = { ...message(roomId, 'once'), clientMessageId: 'tx-1' };
      const error = await store.messages.append(retry).catch((failure: unknown) => failure);
      expect(error).toMatchObject({ name: 'DuplicateMessageError', original: first });
      await expect(store.messages.head(roomId)).resolves.toBe(1);
    });

    it(`logs at most ${STORAGE_LIMITS.commitBatchMax} entries per insert`, async () => {
      const roomId = await newRoom('batch-limit');
      const count = 2 * STORAGE_LIMITS.commitBatchMax + 50;
      const entries = await Promise.all(
        Array.from({ length: count }, (_, i) => store.messages.append(message(roomId, `${i}`))),
      );
      expect(entries.map((entry) => entry.seq)).toEqual(
        Array.from({ length: count }, (_, i) => i + 1),
      );
      const docs = await collection('events').find({ roomId }).sort({ seq: 1 }).toArray();
      const inserts = new Map<number, number[]>();
      for (const doc of docs) {
        inserts.set(doc.batchEnd, [...(inserts.get(doc.batchEnd) ?? []), doc.seq]);
      }
      expect(inserts.size).toBeGreaterThanOrEqual(3);
      for (const [end, seqs] of inserts) {
        expect(seqs.length).toBeLessThanOrEqual(STORAGE_LIMITS.commitBatchMax);
        expect(seqs.at(-1)).toBe(end);
        expect(seqs).toEqual(seqs.map((_, i) => end - seqs.length + 1 + i));
      }
    });

    it('removes a claim on the next turn whose writer is gone', async () => {
      const roomId = await newRoom('stale-claim');
      await collection('claims').insertOne({
        _id: roomId,
        writer: 'a process that died while waiting',
      });
      await store.messages.append(message(roomId, 'first'));
      // The next batch starts only once the first has waited for the claim and given up on it.
      await store.messages.append(message(roomId, 'second'));
      await expect(collection('claims').findOne({ _id: roomId })).resolves.toBeNull();
    });
  });
});
