import { randomBytes } from 'node:crypto';
import { type CommandStartedEvent, type Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AS_SENT, type Message } from '../../src/contract/models.js';
import { createUlidFactory } from '../../src/domain/ids.js';
import { eventKey, openMongoStore } from '../../src/storage/mongo.js';
import type { Store } from '../../src/storage/store.js';

/**
 * Every query the MongoDB store sends on a hot path, checked against the shard key its collection
 * is laid out for (src/storage/mongo/collections.ts; the README has the `sh.shardCollection`
 * commands): on a cluster sharded that way, mongos could send each to the shard holding one room
 * (or one key), never to every shard. FerretDB cannot shard, so the commands are recorded as they
 * leave the driver (command monitoring) and their filters are read here.
 */

/** How a collection is sharded, and so what a targeted query must pin. */
type ShardKey =
  /** `{ roomId: 1, … }`: `roomId` equality. */
  | { kind: 'roomId'; key: Document }
  /** `{ _id: 1 }` over keys `<roomId>/…`: an `_id`, a list of them or a range, within one room. */
  | { kind: 'roomKey'; key: Document }
  /** `{ <field>: 1 | 'hashed' }`: equality on that field. */
  | { kind: 'field'; field: string; key: Document };

const SHARD_KEYS: Record<string, ShardKey> = {
  events: { kind: 'roomKey', key: { _id: 1 } },
  votes: { kind: 'roomKey', key: { _id: 1 } },
  messages: { kind: 'roomId', key: { roomId: 1, _id: 1 } },
  sends: { kind: 'field', field: '_id', key: { _id: 'hashed' } },
  readMarks: { kind: 'field', field: '_id', key: { _id: 'hashed' } },
  claims: { kind: 'field', field: '_id', key: { _id: 'hashed' } },
  messageRooms: { kind: 'field', field: '_id', key: { _id: 'hashed' } },
  users: { kind: 'field', field: 'usernameKey', key: { usernameKey: 1 } },
};
/** Global and small, left on the primary shard: any query may go there. */
const UNSHARDED = new Set(['rooms', 'migrations']);

/** Commands that carry no filter on documents (the handshake, cursors, indexes, the session). */
const NOT_QUERIES = new Set([
  'hello',
  'isMaster',
  'ping',
  'getMore',
  'killCursors',
  'endSessions',
  'listIndexes',
  'createIndexes',
  'dropIndexes',
]);

/** One filter or inserted document the store sent, and the hot path that sent it. */
interface Sent {
  path: string;
  command: string;
  collection: string;
  filter?: Document;
  document?: Document;
  upsert?: boolean;
}

function sentBy(path: string, event: CommandStartedEvent): Sent[] {
  const { command, commandName } = event;
  if (NOT_QUERIES.has(commandName)) return [];
  const collection = String(command[commandName]);
  const base = { path, command: commandName, collection };
  switch (commandName) {
    case 'find':
      return [{ ...base, filter: command.filter ?? {} }];
    case 'insert':
      return (command.documents as Document[]).map((document) => ({ ...base, document }));
    case 'update':
      return (command.updates as Document[]).map((update) => ({
        ...base,
        filter: update.q,
        upsert: update.upsert === true,
      }));
    case 'delete':
      return (command.deletes as Document[]).map((remove) => ({ ...base, filter: remove.q }));
    case 'aggregate': {
      const [first] = command.pipeline as Document[];
      return [{ ...base, filter: first?.$match ?? {} }];
    }
    default:
      return [{ ...base }];
  }
}

/** The room a key names: room ids hold no `/`, so it is what comes before the first one. */
const roomOfKey = (key: unknown) =>
  typeof key === 'string' && key.includes('/') ? key.slice(0, key.indexOf('/')) : null;

/**
 * What one sent filter or document pins of its collection's shard key: a room, or one key; or
 * why it would reach every shard.
 */
function target(sent: Sent): { pinned: string } | { scatters: string } {
  const shardKey = SHARD_KEYS[sent.collection];
  if (!shardKey) return { scatters: `no shard key is documented for ${sent.collection}` };
  if (sent.document) {
    const { document } = sent;
    switch (shardKey.kind) {
      case 'roomId':
        return typeof document.roomId === 'string'
          ? { pinned: `room ${document.roomId}` }
          : { scatters: 'a document without roomId' };
      case 'roomKey':
        return roomOfKey(document._id) === document.roomId
          ? { pinned: `room ${document.roomId}` }
          : { scatters: `a document whose key ${document._id} does not start with its room` };
      case 'field':
        return typeof document[shardKey.field] === 'string'
          ? { pinned: `${shardKey.field} ${document[shardKey.field]}` }
          : { scatters: `a document without ${shardKey.field}` };
    }
  }
  if (!sent.filter) return { scatters: `${sent.command} carries no filter` };
  const { filter } = sent;
  switch (shardKey.kind) {
    case 'roomId':
      return typeof filter.roomId === 'string'
        ? { pinned: `room ${filter.roomId}` }
        : { scatters: `no roomId equality in ${JSON.stringify(filter)}` };
    case 'field':
      return typeof filter[shardKey.field] === 'string'
        ? { pinned: `${shardKey.field} ${filter[shardKey.field]}` }
        : { scatters: `no ${shardKey.field} equality in ${JSON.stringify(filter)}` };
    case 'roomKey': {
      const id: unknown = filter._id;
      if (typeof id === 'string') {
        const room = roomOfKey(id);
        return room ? { pinned: `room ${room}` } : { scatters: `key ${id} names no room` };
      }
      if (typeof id !== 'object' || id === null) {
        return { scatters: `no _id key or range in ${JSON.stringify(filter)}` };
      }
      // A list of keys, or a range between two: all of one room.
      const bounds = Object.entries(id).flatMap(([operator, value]) =>
        operator === '$in'
          ? (value as unknown[])
          : ['$gt', '$gte', '$lt', '$lte'].includes(operator)
            ? [value]
            : [null],
      );
      const rooms = new Set(bounds.map(roomOfKey));
      const [room] = rooms;
      const closed =
        '$in' in id || (('$gt' in id || '$gte' in id) && ('$lt' in id || '$lte' in id));
      return rooms.size === 1 && room && closed
        ? { pinned: `room ${room}` }
        : { scatters: `_id condition ${JSON.stringify(id)} is not within one room's keys` };
    }
  }
}

const url = inject('mongoUrl');
const dbName = `chathub_targeting_${randomBytes(6).toString('hex')}`;
const ulid = createUlidFactory();
const ada = { id: 'ada', username: 'ada' };
const message = (roomId: string, body: string, clientMessageId: string | null = null): Message => ({
  id: ulid(),
  roomId,
  author: ada,
  body,
  createdAt: Date.now(),
  up: 0,
  down: 0,
  ...AS_SENT,
  clientMessageId,
});

describe('MongoDB: every hot query targets one room (or one key) of its shard key', () => {
  const sent: Sent[] = [];
  let path = 'start-up';
  const record = (event: CommandStartedEvent) => sent.push(...sentBy(path, event));
  let store: Store;
  let other: Store;
  let raw: MongoClient;
  const rooms = ['targets-a', 'targets-b'];

  /** Runs one hot path, recording what it sends under its name. */
  const during = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    path = name;
    try {
      return await run();
    } finally {
      path = 'between paths';
    }
  };

  beforeAll(async () => {
    raw = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
    // Two processes' stores on one database: races between them take the catch-up paths too.
    [store, other] = await Promise.all([
      openMongoStore(url, { dbName, onCommandStarted: record }),
      openMongoStore(url, { dbName, onCommandStarted: record }),
    ]);
    for (const id of rooms) await store.rooms.create({ id, name: id, createdAt: 1 });

    const [roomId, otherRoom] = rooms as [string, string];
    await during('sign-up and sign-in', async () => {
      await store.users.create({ id: ulid(), username: 'Ada', passwordHash: 'h', createdAt: 1 });
      await store.users.findByUsername('ADA');
    });
    const sentFirst = message(roomId, 'first', 'tx-1');
    await during('send', async () => {
      await store.messages.append(sentFirst);
      await store.messages.append(message(otherRoom, 'elsewhere'));
      // A retry, answered with the original.
      await store.messages
        .append({ ...message(roomId, 'first'), clientMessageId: 'tx-1' })
        .catch(() => {});
    });
    await during('send from two processes at once', async () => {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          (i % 2 ? store : other).messages.append(message(roomId, `racing ${i}`)),
        ),
      );
    });
    await during('vote', async () => {
      await store.messages.vote(sentFirst.id, 'bob', 'up');
      await other.messages.vote(sentFirst.id, 'bob', 'down');
      await store.messages.vote(sentFirst.id, 'bob', 'down');
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? store : other).messages.vote(sentFirst.id, `voter-${i}`, 'up'),
        ),
      );
    });
    await during('edit, pin, answer, remove', async () => {
      const target = message(roomId, 'to change');
      await store.messages.append(target);
      await store.messages.get(target.id);
      await store.messages.edit(target.id, 'changed', 2);
      await other.messages.pin(target.id, true);
      await store.messages.answer(target.id, true);
      await other.messages.remove(target.id, 3, 'author');
    });
    await during('history page', () => store.messages.page(roomId, sentFirst.id, 20, 'bob'));
    await during('snapshot', () => other.messages.snapshot(roomId, 20, 'bob'));
    await during('resume', async () => {
      const head = await store.messages.head(roomId);
      await store.messages.eventsAfter(roomId, head - 10, 500);
    });
    await during('mark read and unread counts', async () => {
      await store.messages.markRead('bob', roomId, 5);
      await store.messages.unread('bob', rooms, 99);
    });
    await during('a dead writer rolled forward, a stale claim removed', async () => {
      const head = await store.messages.head(otherRoom);
      // What a writer leaves when it dies after logging, before applying; and its claim.
      await raw
        .db(dbName)
        .collection<Document & { _id: string }>('events')
        .insertOne({
          _id: eventKey(otherRoom, head + 1),
          roomId: otherRoom,
          seq: head + 1,
          payload: { type: 'message', message: message(otherRoom, 'orphan') },
          batchEnd: head + 1,
        });
      await raw
        .db(dbName)
        .collection<Document & { _id: string }>('claims')
        .insertOne({ _id: otherRoom, writer: 'a process that died' });
      await other.messages.snapshot(otherRoom, 20, 'bob');
      await store.messages.append(message(otherRoom, 'after the orphan'));
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([store?.close(), other?.close()]);
    await raw?.db(dbName).dropDatabase();
    await raw?.close();
  });

  it('sent something on every path, touching every room-scoped collection', () => {
    const paths = new Set(sent.map((each) => each.path));
    for (const name of [
      'send',
      'send from two processes at once',
      'vote',
      'edit, pin, answer, remove',
      'history page',
      'snapshot',
      'resume',
      'mark read and unread counts',
      'a dead writer rolled forward, a stale claim removed',
    ]) {
      expect(paths, name).toContain(name);
    }
    const touched = new Set(
      sent.filter((each) => each.path !== 'start-up').map((each) => each.collection),
    );
    expect([...touched].sort()).toEqual([...Object.keys(SHARD_KEYS), 'rooms'].sort());
  });

  it('pins one room or one key in every filter and inserted document on a sharded collection', () => {
    const hot = sent.filter((each) => each.path !== 'start-up' && !UNSHARDED.has(each.collection));
    const scattered = hot.flatMap((each) => {
      const outcome = target(each);
      return 'scatters' in outcome
        ? [`${each.path}: ${each.command} ${each.collection}: ${outcome.scatters}`]
        : [];
    });
    expect(scattered).toEqual([]);
    // And the rooms pinned are the rooms the paths used.
    const pinnedRooms = new Set(
      hot.flatMap((each) => {
        const outcome = target(each);
        return 'pinned' in outcome && outcome.pinned.startsWith('room ')
          ? [outcome.pinned.slice(5)]
          : [];
      }),
    );
    expect([...pinnedRooms].sort()).toEqual([...rooms].sort());
  });

  it('names the whole shard key in every upsert, as a sharded upsert must', () => {
    const upserts = sent.filter((each) => each.upsert);
    expect(upserts.length).toBeGreaterThan(0);
    for (const upsert of upserts) {
      const shardKey = SHARD_KEYS[upsert.collection];
      const fields = Object.keys(shardKey?.key ?? {});
      for (const field of fields) {
        expect(typeof upsert.filter?.[field], `${upsert.collection} ${field}`).toBe('string');
      }
    }
  });

  it('has, on each sharded collection, an index that starts with the shard key', async () => {
    for (const [name, shardKey] of Object.entries(SHARD_KEYS)) {
      const indexes = await raw.db(dbName).collection(name).listIndexes().toArray();
      const fields = Object.keys(shardKey.key);
      const supporting = indexes.filter((index) =>
        fields.every((field, i) => Object.keys(index.key as Document)[i] === field),
      );
      expect(
        supporting.map((index) => index.name),
        name,
      ).not.toEqual([]);
    }
  });
});
