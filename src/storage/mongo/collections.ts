import { type Collection, MongoServerError } from 'mongodb';
import type { MongoConnection } from '../mongoConnection.js';
import type {
  ClaimDoc,
  EventDoc,
  MessageDoc,
  MessageRoomDoc,
  MigrationDoc,
  ReadMarkDoc,
  RoomDoc,
  SendDoc,
  UserDoc,
  VoteDoc,
} from './documents.js';

/**
 * The collections, and the shard key each is laid out for. Every query on a room-scoped
 * collection pins one room's range of that key, so a sharded cluster sends it to the shard (or,
 * for a room that outgrew a chunk, the few shards) holding that room: no query of the send, vote,
 * change, history, snapshot, resume or read-position paths is sent to every shard.
 * test/integration/storage.mongo.targeting.test.ts checks every query the store sends against
 * these keys, and the README gives the `sh.shardCollection` commands.
 *
 * - events   `{ _id: 1 }`, keys `<roomId>/<seq>`: a room's log is one range, in log order
 *            (resume reads ranges of it); the key is unique cluster-wide, which is what lets one
 *            writer win each seq. Ranged, not hashed: a hashed key would scatter each room's range.
 * - votes    `{ _id: 1 }`, keys `<roomId>/<messageId>/<userId>`: a decision reads one key, a
 *            snapshot a viewer's keys on one page, all in the room's range.
 * - messages `{ roomId: 1, _id: 1 }`: history pages are ranges of message ids within a room;
 *            the index `roomId_id` is the shard key's.
 * - sends, readMarks, claims, messageRooms `{ _id: 'hashed' }`: only ever read by key, so a
 *            hashed key spreads them evenly (message ids grow with time, which would send every
 *            new locator to the last chunk of a ranged key).
 * - users    `{ usernameKey: 1 }`, unique: the unique index must be the shard key (or start with
 *            it), and a hashed key cannot be unique. Sign-in and sign-up read by that key.
 * - rooms, migrations: unsharded. The unique name key cannot coexist with a shard key on `_id`,
 *            and the directory is small (a document per room) next to the room-scoped data.
 */
export interface Collections {
  users: Collection<UserDoc>;
  rooms: Collection<RoomDoc>;
  messages: Collection<MessageDoc>;
  messageRooms: Collection<MessageRoomDoc>;
  votes: Collection<VoteDoc>;
  events: Collection<EventDoc>;
  claims: Collection<ClaimDoc>;
  sends: Collection<SendDoc>;
  readMarks: Collection<ReadMarkDoc>;
  migrations: Collection<MigrationDoc>;
}

export function collectionsOf(connection: MongoConnection): Collections {
  return {
    users: connection.collection<UserDoc>('users'),
    rooms: connection.collection<RoomDoc>('rooms'),
    messages: connection.collection<MessageDoc>('messages'),
    messageRooms: connection.collection<MessageRoomDoc>('messageRooms'),
    votes: connection.collection<VoteDoc>('votes'),
    events: connection.collection<EventDoc>('events'),
    claims: connection.collection<ClaimDoc>('claims'),
    sends: connection.collection<SendDoc>('sends'),
    readMarks: connection.collection<ReadMarkDoc>('readMarks'),
    migrations: connection.collection<MigrationDoc>('migrations'),
  };
}

/**
 * Creates the indexes; idempotent, and safe from several processes at once. Collections keyed by
 * `_id` need no other index. None is unique unless it starts with its collection's shard key.
 */
export async function createIndexes(c: Collections): Promise<void> {
  // Explicit names, so every process asks for the identical index and a repeat is a no-op.
  const create = () =>
    Promise.all([
      c.users.createIndex({ usernameKey: 1 }, { name: 'usernameKey_unique', unique: true }),
      c.rooms.createIndex({ nameKey: 1 }, { name: 'nameKey_unique', unique: true }),
      c.rooms.createIndex({ 'owner.id': 1 }, { name: 'owner_id' }),
      c.messages.createIndex({ roomId: 1, _id: 1 }, { name: 'roomId_id' }),
      // Unread counts, and the pinned messages newest pin first.
      c.messages.createIndex({ roomId: 1, seq: 1 }, { name: 'roomId_seq' }),
      c.messages.createIndex({ roomId: 1, pinned: 1, pinSeq: -1 }, { name: 'roomId_pinned' }),
    ]);
  try {
    await create();
  } catch (error) {
    // Processes starting together on a fresh database race to create the collections; the
    // loser may get an error although the index now exists. A second pass is then a no-op.
    if (!(error instanceof MongoServerError)) throw error;
    await create();
  }
}
