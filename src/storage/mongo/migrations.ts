import {
  type Collection,
  type Document,
  type FindCursor,
  MongoServerError,
  type ObjectId,
} from 'mongodb';
import type { LoggedEvent } from '../../contract/events.js';
import type { MongoConnection } from '../mongoConnection.js';
import { keysForExistingRooms } from '../roomKeys.js';
import type { LoggedEntry } from '../store.js';
import { apply } from './apply.js';
import type { Collections } from './collections.js';
import { type EventDoc, eventKey, type RoomDoc, type StoredVote, voteKey } from './documents.js';
import { duplicatesIn, ignoringDuplicate } from './errors.js';

/*
 * What start-up does to a database an earlier version wrote, before this version serves from
 * it. Each step is idempotent and safe from several processes at once, and a process that dies
 * part way leaves nothing that the next run does not finish: a document is copied to its new
 * shape before the old one is deleted. A step that completes is recorded in `migrations`, so later
 * start-ups skip it with one lookup.
 *
 * Servers of an earlier version must not write while this one migrates or after: they decide
 * votes from documents this version re-keys, and log without the keys this version relies on.
 * Stop the older chat servers (or scale them to zero) before starting this version.
 */

/** A vote as versions before room-keyed votes stored it. */
interface LegacyVoteDoc {
  _id: ObjectId;
  messageId: string;
  userId: string;
  value: StoredVote;
  seq: number;
}

/** A log entry as versions before group commit stored it. */
interface LegacyEventDoc {
  _id: ObjectId;
  roomId: string;
  seq: number;
  payload: LoggedEvent;
}

/** How many documents a migration step reads and writes at a time. */
const CHUNK = 500;
/** Documents an earlier version stored, with the ids the driver gave them. */
const NOT_KEYED = { _id: { $type: 'objectId' as const } };

interface Step {
  name: string;
  run(connection: MongoConnection, c: Collections): Promise<void>;
}

const STEPS: Step[] = [
  // Before the log: rolling a log forward writes votes by their new keys.
  { name: 'votes keyed by room', run: keyVotes },
  { name: 'log keyed by room', run: keyLog },
  { name: 'messages located', run: locateMessages },
  { name: 'sends name their room', run: nameSendRooms },
];

export async function migrate(connection: MongoConnection, c: Collections): Promise<void> {
  await keyExistingRooms(c.rooms);
  for (const step of STEPS) {
    if (await c.migrations.findOne({ _id: step.name })) continue;
    await step.run(connection, c);
    await ignoringDuplicate(c.migrations.insertOne({ _id: step.name, doneAt: Date.now() }));
  }
}

/**
 * Gives rooms stored before names were unique by key their key, before the unique index is built.
 * Every process computes the same keys from the same rooms, so several may run this at once.
 */
async function keyExistingRooms(rooms: Collection<RoomDoc>): Promise<void> {
  const unkeyed = { nameKey: { $exists: false } };
  if (!(await rooms.findOne(unkeyed, { projection: { _id: 1 } }))) return;
  const all = await rooms
    .find({}, { projection: { name: 1, nameKey: 1 } })
    .sort({ createdAt: 1, _id: 1 })
    .toArray();
  const taken = new Set(all.flatMap((doc) => (doc.nameKey === undefined ? [] : [doc.nameKey])));
  const missing = all.filter((doc) => doc.nameKey === undefined);
  const keys = keysForExistingRooms(
    missing.map((doc) => ({ id: doc._id, name: doc.name })),
    taken,
  );
  for (const [id, nameKey] of keys) {
    await rooms.updateOne({ _id: id, ...unkeyed }, { $set: { nameKey } });
  }
}

/**
 * Votes were found by { messageId, userId }, unique over every room; now by their key, which
 * starts with the room. Each is copied to its key (a newer vote already there stays), then the
 * old document is deleted. A vote whose message is not stored yet (its writer died part way
 * through applying) stays as it was: rolling its room's log forward writes it again by key.
 */
async function keyVotes(connection: MongoConnection, { votes, messages }: Collections) {
  await dropIndex(votes, 'messageId_userId_unique');
  const legacy = connection.collection<LegacyVoteDoc>('votes').find(NOT_KEYED);
  for await (const chunk of chunks(legacy)) {
    const located = await messages
      .find({ _id: { $in: [...new Set(chunk.map((doc) => doc.messageId))] } })
      .project<{ _id: string; roomId: string }>({ roomId: 1 })
      .toArray();
    const roomOf = new Map(located.map((doc) => [doc._id, doc.roomId]));
    const movable = chunk.flatMap((doc) => {
      const roomId = roomOf.get(doc.messageId);
      return roomId === undefined ? [] : [{ ...doc, roomId }];
    });
    if (movable.length === 0) continue;
    await duplicatesIn(
      votes.bulkWrite(
        movable.map(({ roomId, messageId, userId, value, seq }) => ({
          updateOne: {
            filter: { _id: voteKey(roomId, messageId, userId), seq: { $lt: seq } },
            update: { $set: { value, seq }, $setOnInsert: { roomId, messageId, userId } },
            upsert: true,
          },
        })),
        { ordered: false },
      ),
    );
    await connection
      .collection<LegacyVoteDoc>('votes')
      .deleteMany({ _id: { $in: movable.map((doc) => doc._id) } });
  }
}

/**
 * Entries logged before group commit have ObjectId ids, and only the unique { roomId, seq } index
 * kept one per seq; now the key does. First every room whose old entries are not all applied is
 * rolled forward (so no writer can log at their seqs once the index is gone), then each entry is
 * copied to its key and the old document deleted. The index `vote_history` served a vote path
 * that no longer reads the log.
 */
async function keyLog(connection: MongoConnection, c: Collections) {
  const legacyEvents = connection.collection<LegacyEventDoc>('events');
  const lastOld = new Map<string, number>();
  for await (const doc of legacyEvents.find(NOT_KEYED).project<{ roomId: string; seq: number }>({
    roomId: 1,
    seq: 1,
  })) {
    lastOld.set(doc.roomId, Math.max(doc.seq, lastOld.get(doc.roomId) ?? 0));
  }
  for (const [roomId, last] of lastOld) await rollForwardOldEntries(connection, c, roomId, last);
  await Promise.all([
    dropIndex(c.events, 'roomId_seq_unique'),
    dropIndex(c.events, 'vote_history'),
  ]);
  for await (const chunk of chunks(legacyEvents.find(NOT_KEYED))) {
    const keyed: EventDoc[] = chunk.map(({ roomId, seq, payload }) => ({
      _id: eventKey(roomId, seq),
      roomId,
      seq,
      payload,
      batchEnd: seq,
    }));
    await duplicatesIn(c.events.insertMany(keyed, { ordered: false }));
    await legacyEvents.deleteMany({ _id: { $in: chunk.map((doc) => doc._id) } });
  }
}

/** Applies the room's entries after its `seq` through `last` (old entries, found by { roomId, seq }). */
async function rollForwardOldEntries(
  connection: MongoConnection,
  c: Collections,
  roomId: string,
  last: number,
) {
  const room = await c.rooms.findOne({ _id: roomId }, { projection: { seq: 1 } });
  const applied = room?.seq ?? 0;
  if (applied >= last) return;
  const docs = await connection
    .collection<LegacyEventDoc>('events')
    .find({ roomId, seq: { $gt: applied, $lte: last } })
    .sort({ seq: 1 })
    .toArray();
  const entries: LoggedEntry[] = docs.map(({ seq, payload }) => ({ seq, event: payload }));
  entries.forEach((entry, index) => {
    if (entry.seq !== applied + 1 + index) {
      throw new Error(`room ${roomId}: its log has no entry ${applied + 1 + index}`);
    }
  });
  await apply(c, roomId, entries);
  await c.rooms.updateOne({ _id: roomId }, { $max: { seq: last } });
}

/** Every message gets the document that says which room it is in. */
async function locateMessages(
  _connection: MongoConnection,
  { messages, messageRooms }: Collections,
) {
  const all = messages.find({}).project<{ _id: string; roomId: string }>({ roomId: 1 });
  for await (const chunk of chunks(all)) {
    const located = chunk.map(({ _id, roomId }) => ({ _id, roomId }));
    await duplicatesIn(messageRooms.insertMany(located, { ordered: false }));
  }
}

/** Sends keep their room in `roomId`, as every room-scoped document does; their key starts with it. */
async function nameSendRooms(_connection: MongoConnection, { sends }: Collections) {
  const unnamed = sends.find({ roomId: { $exists: false } }).project<{ _id: string }>({ _id: 1 });
  for await (const chunk of chunks(unnamed)) {
    await sends.bulkWrite(
      chunk.map(({ _id }) => ({
        updateOne: {
          filter: { _id },
          update: { $set: { roomId: _id.slice(0, _id.indexOf('/')) } },
        },
      })),
      { ordered: false },
    );
  }
}

/** Drops an index an earlier version made; nothing when it (or its collection) is not there. */
async function dropIndex<T extends Document>(collection: Collection<T>, name: string) {
  try {
    await collection.dropIndex(name);
  } catch (error) {
    const missing = error instanceof MongoServerError && (error.code === 26 || error.code === 27);
    if (!missing) throw error;
  }
}

async function* chunks<T>(cursor: FindCursor<T>): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const doc of cursor) {
    chunk.push(doc);
    if (chunk.length < CHUNK) continue;
    yield chunk;
    chunk = [];
  }
  if (chunk.length > 0) yield chunk;
}
