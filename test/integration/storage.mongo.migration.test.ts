import { randomBytes } from 'node:crypto';
import { type Document, MongoClient, type ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LoggedEvent } from '../../src/contract/events.js';
import { AS_SENT, type Message } from '../../src/contract/models.js';
import { createUlidFactory } from '../../src/domain/ids.js';
import { eventKey, openMongoStore, sendKey } from '../../src/storage/mongo.js';
import type { Store } from '../../src/storage/store.js';

/**
 * A database as earlier versions of the MongoDB adapter left it, written here document by
 * document: log entries from before group commit (ObjectId ids, some not yet applied), votes
 * found by { messageId, userId } under a unique index, sends without their room, messages
 * without the document that locates them, and the indexes of those versions. Two stores open it
 * at once, as two processes starting together would; everything must read and write as if this
 * version had written it all.
 */
const url = inject('mongoUrl');
const runTag = randomBytes(6).toString('hex');
const databases: string[] = [];
const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });

afterAll(async () => {
  for (const name of databases) await client.db(name).dropDatabase();
  await client.close();
});

const ulid = createUlidFactory();
const ada = { id: 'ada', username: 'ada' };
const message = (roomId: string, body: string, patch: Partial<Message> = {}): Message => ({
  id: ulid(),
  roomId,
  author: ada,
  body,
  createdAt: 1,
  up: 0,
  down: 0,
  ...AS_SENT,
  ...patch,
});
const vote = (target: Message, voterId: string, value: 'up' | 'down', up: number, down: number) =>
  ({ type: 'vote', messageId: target.id, up, down, voterId, vote: value }) satisfies LoggedEvent;

/** Writes raw documents into a fresh database, as an earlier version would have. */
function oldDatabase() {
  const name = `chathub_oldformat_${runTag}_${databases.length}`;
  databases.push(name);
  const db = client.db(name);
  const collection = (collectionName: string) =>
    db.collection<Document & { _id?: string | ObjectId }>(collectionName);
  return {
    name,
    collection,
    async indexes(): Promise<void> {
      // The indexes of the version before this one, which this one drops.
      await collection('events').createIndex(
        { roomId: 1, seq: 1 },
        { name: 'roomId_seq_unique', unique: true },
      );
      await collection('events').createIndex(
        { 'payload.messageId': 1, 'payload.voterId': 1, seq: -1 },
        { name: 'vote_history' },
      );
      await collection('votes').createIndex(
        { messageId: 1, userId: 1 },
        { name: 'messageId_userId_unique', unique: true },
      );
    },
    room: (roomId: string, seq: number) =>
      collection('rooms').insertOne({
        _id: roomId,
        name: roomId,
        nameKey: roomId,
        createdAt: 1,
        seq,
      }),
    /** An entry from before group commit: an ObjectId, no batchEnd. */
    oldEntry: (roomId: string, seq: number, payload: LoggedEvent) =>
      collection('events').insertOne({ roomId, seq, payload }),
    /** An entry written by group commit, alone in its insert. */
    keyedEntry: (roomId: string, seq: number, payload: LoggedEvent) =>
      collection('events').insertOne({
        _id: eventKey(roomId, seq),
        roomId,
        seq,
        payload,
        batchEnd: seq,
      }),
    /**
     * The message document of a message logged at `seq`, as applied by the version before this,
     * or (`beforeEdits`) by one from before edits, pins and answers, which kept none of their fields.
     */
    applied: (
      sent: Message,
      seq: number,
      counts: { up: number; down: number; at: number },
      beforeEdits = false,
    ) =>
      collection('messages').insertOne({
        _id: sent.id,
        roomId: sent.roomId,
        seq,
        author: sent.author,
        body: sent.body,
        createdAt: sent.createdAt,
        up: counts.up,
        down: counts.down,
        countsSeq: counts.at,
        ...(beforeEdits
          ? {}
          : {
              editedAt: null,
              removed: false,
              pinned: false,
              answered: false,
              clientMessageId: sent.clientMessageId,
              bodySeq: seq,
              pinSeq: 0,
              answerSeq: 0,
              bodySeqs: [],
            }),
      }),
    /** A vote as the version before this stored it. */
    oldVote: (target: Message, userId: string, value: 1 | -1 | 0, seq: number) =>
      collection('votes').insertOne({ messageId: target.id, userId, value, seq }),
    oldSend: (sent: Message) =>
      collection('sends').insertOne({
        _id: sendKey(sent.roomId, sent.author.id, sent.clientMessageId ?? ''),
        messageId: sent.id,
      }),
  };
}

/** Opens the database as two processes starting at once would; resolves with both stores. */
async function openTwice(dbName: string): Promise<[Store, Store]> {
  const [a, b] = await Promise.all([
    openMongoStore(url, { dbName }),
    openMongoStore(url, { dbName }),
  ]);
  return [a, b];
}

describe('MongoDB: a database written by earlier versions', () => {
  const old = oldDatabase();
  const roomId = 'old-room';
  const behind = 'old-room-behind';
  /** Logged and voted on (by bob) before group commit, and before edits, pins and answers. */
  const first = message(roomId, 'first, secret');
  /** Logged by group commit with a client id; carol voted down. */
  const second = message(roomId, 'second', { clientMessageId: 'tx-1' });
  /** A room whose last two old entries were logged but never applied. */
  const third = message(behind, 'third');
  const fourth = message(behind, 'fourth, never applied');
  let stores: [Store, Store];

  beforeAll(async () => {
    await old.indexes();
    await old.room(roomId, 4);
    await old.oldEntry(roomId, 1, { type: 'message', message: first });
    await old.oldEntry(roomId, 2, vote(first, 'bob', 'up', 1, 0));
    await old.keyedEntry(roomId, 3, { type: 'message', message: second });
    await old.keyedEntry(roomId, 4, vote(second, 'carol', 'down', 0, 1));
    await old.applied(first, 1, { up: 1, down: 0, at: 2 }, true);
    await old.applied(second, 3, { up: 0, down: 1, at: 4 });
    await old.oldVote(first, 'bob', 1, 2);
    await old.oldVote(second, 'carol', -1, 4);
    await old.oldSend(second);
    await old.collection('readMarks').insertOne({
      _id: `reader/${roomId}`,
      userId: 'reader',
      roomId,
      seq: 1,
    });

    await old.room(behind, 1);
    await old.oldEntry(behind, 1, { type: 'message', message: third });
    await old.oldEntry(behind, 2, vote(third, 'bob', 'up', 1, 0));
    await old.oldEntry(behind, 3, { type: 'message', message: fourth });
    await old.applied(third, 1, { up: 0, down: 0, at: 1 });

    stores = await openTwice(old.name);
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
  });

  it('keeps the whole log, in order, and rolls forward old entries that were never applied', async () => {
    const [a, b] = stores;
    await expect(a.messages.head(roomId)).resolves.toBe(4);
    expect((await b.messages.eventsAfter(roomId, 0, 10)).map((entry) => entry.event)).toEqual([
      { type: 'message', message: first },
      vote(first, 'bob', 'up', 1, 0),
      { type: 'message', message: second },
      vote(second, 'carol', 'down', 0, 1),
    ]);
    await expect(a.messages.head(behind)).resolves.toBe(3);
    await expect(b.messages.snapshot(behind, 10, 'bob')).resolves.toMatchObject({
      head: 3,
      messages: [
        { id: third.id, up: 1, myVote: 'up' },
        { id: fourth.id, up: 0, myVote: null },
      ],
    });
  });

  it('decides votes from the votes cast before, and goes on logging after the old entries', async () => {
    const [a, b] = stores;
    // bob's up vote, cast before group commit, counts: repeating it changes nothing.
    await expect(a.messages.vote(first.id, 'bob', 'up')).resolves.toEqual({
      roomId,
      up: 1,
      down: 0,
      entry: null,
    });
    await expect(b.messages.vote(second.id, 'carol', 'down')).resolves.toMatchObject({
      up: 0,
      down: 1,
      entry: null,
    });
    // The vote rolled forward at start-up counts too.
    await expect(a.messages.vote(third.id, 'bob', 'up')).resolves.toMatchObject({ entry: null });
    await expect(b.messages.vote(first.id, 'bob', 'down')).resolves.toEqual({
      roomId,
      up: 0,
      down: 1,
      entry: { seq: 5, event: vote(first, 'bob', 'down', 0, 1) },
    });
    await expect(a.messages.snapshot(roomId, 10, 'carol')).resolves.toMatchObject({
      head: 5,
      messages: [
        { id: first.id, up: 0, down: 1, myVote: null },
        { id: second.id, down: 1, myVote: 'down' },
      ],
    });
  });

  it('answers a retried send that an earlier version posted with the original', async () => {
    const retry = { ...message(roomId, 'second'), clientMessageId: 'tx-1' };
    const error = await stores[0].messages.append(retry).catch((failure: unknown) => failure);
    expect(error).toMatchObject({
      name: 'DuplicateMessageError',
      original: { ...second, down: 1 },
    });
  });

  it('finds, answers, pins, edits and removes old messages, scrubbing their old entries', async () => {
    const [a, b] = stores;
    await expect(b.messages.get(first.id)).resolves.toMatchObject({ id: first.id, roomId });
    await a.messages.answer(first.id, true);
    await b.messages.pin(first.id, true);
    await a.messages.edit(first.id, 'first, edited, secret', 9);
    await expect(b.messages.snapshot(roomId, 10, 'v')).resolves.toMatchObject({
      messages: [{ id: first.id, body: 'first, edited, secret', answered: true, pinned: true }, {}],
      pinned: [{ id: first.id }],
    });
    await b.messages.remove(first.id, 10, 'author');
    const stored = JSON.stringify([
      await old.collection('events').find({ roomId }).toArray(),
      await old.collection('messages').find({ roomId }).toArray(),
    ]);
    expect(stored).not.toContain('secret');
    await expect(a.messages.get(first.id)).resolves.toMatchObject({ body: '', removed: true });
  });

  it('keeps read positions', async () => {
    // The reader had read up to seq 1: after it, `second` (by ada) is unread.
    await expect(stores[0].messages.unread('reader', [roomId], 10)).resolves.toEqual(
      new Map([[roomId, 1]]),
    );
  });

  it('leaves only documents of this version, and none of the old indexes', async () => {
    for (const name of ['events', 'votes']) {
      await expect(
        old.collection(name).countDocuments({ _id: { $type: 'objectId' } }),
        name,
      ).resolves.toBe(0);
    }
    const messageIds = (await old.collection('messages').find().toArray()).map((doc) => doc._id);
    const located = await old.collection('messageRooms').find().toArray();
    expect(located.map((doc) => doc._id).sort()).toEqual([...messageIds].sort());
    await expect(old.collection('sends').findOne()).resolves.toMatchObject({ roomId });
    await expect(old.collection('votes').findOne({ messageId: second.id })).resolves.toEqual({
      _id: `${roomId}/${second.id}/carol`,
      roomId,
      messageId: second.id,
      userId: 'carol',
      value: -1,
      seq: 4,
    });
    const indexNames = async (name: string) =>
      (await old.collection(name).listIndexes().toArray()).map((index) => index.name);
    expect(await indexNames('events')).toEqual(['_id_']);
    expect(await indexNames('votes')).toEqual(['_id_']);
    expect(await old.collection('migrations').countDocuments()).toBe(4);
  });
});

describe('MongoDB: a migration that died part way', () => {
  it('is finished by the next start-up: each document once, the newer vote kept', async () => {
    const old = oldDatabase();
    const roomId = 'half-migrated';
    const sent = message(roomId, 'hello');
    await old.room(roomId, 3);
    // The old entry was copied to its key but not yet deleted (the unique index was dropped).
    await old.oldEntry(roomId, 1, { type: 'message', message: sent });
    await old.keyedEntry(roomId, 1, { type: 'message', message: sent });
    await old.keyedEntry(roomId, 2, vote(sent, 'bob', 'up', 1, 0));
    await old.keyedEntry(roomId, 3, vote(sent, 'bob', 'down', 0, 1));
    await old.applied(sent, 1, { up: 0, down: 1, at: 3 });
    // bob's vote: the old document (seq 2) next to the newer one this version wrote (seq 3).
    await old.oldVote(sent, 'bob', 1, 2);
    await old.collection('votes').insertOne({
      _id: `${roomId}/${sent.id}/bob`,
      roomId,
      messageId: sent.id,
      userId: 'bob',
      value: -1,
      seq: 3,
    });

    const stores = await openTwice(old.name);
    try {
      const [a, b] = stores;
      expect((await a.messages.eventsAfter(roomId, 0, 10)).map((entry) => entry.seq)).toEqual([
        1, 2, 3,
      ]);
      await expect(b.messages.vote(sent.id, 'bob', 'down')).resolves.toMatchObject({
        up: 0,
        down: 1,
        entry: null,
      });
      await expect(old.collection('events').countDocuments({ roomId })).resolves.toBe(3);
      await expect(old.collection('votes').countDocuments()).resolves.toBe(1);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
