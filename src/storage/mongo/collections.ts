import { type Collection, MongoServerError } from 'mongodb';
import type { MongoConnection } from '../mongoConnection.js';
import type {
  ClaimDoc,
  EventDoc,
  MessageDoc,
  ReadMarkDoc,
  RoomDoc,
  SendDoc,
  UserDoc,
  VoteDoc,
} from './documents.js';

export interface Collections {
  users: Collection<UserDoc>;
  rooms: Collection<RoomDoc>;
  messages: Collection<MessageDoc>;
  votes: Collection<VoteDoc>;
  events: Collection<EventDoc>;
  claims: Collection<ClaimDoc>;
  sends: Collection<SendDoc>;
  readMarks: Collection<ReadMarkDoc>;
}

export function collectionsOf(connection: MongoConnection): Collections {
  return {
    users: connection.collection<UserDoc>('users'),
    rooms: connection.collection<RoomDoc>('rooms'),
    messages: connection.collection<MessageDoc>('messages'),
    votes: connection.collection<VoteDoc>('votes'),
    events: connection.collection<EventDoc>('events'),
    claims: connection.collection<ClaimDoc>('claims'),
    sends: connection.collection<SendDoc>('sends'),
    readMarks: connection.collection<ReadMarkDoc>('readMarks'),
  };
}

/** Creates the indexes; idempotent, and safe from several processes at once. */
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
      c.votes.createIndex(
        { messageId: 1, userId: 1 },
        { name: 'messageId_userId_unique', unique: true },
      ),
      c.events.createIndex({ roomId: 1, seq: 1 }, { name: 'roomId_seq_unique', unique: true }),
      // Votes are decided from the log: the latest entry for a message (and voter).
      c.events.createIndex(
        { 'payload.messageId': 1, 'payload.voterId': 1, seq: -1 },
        { name: 'vote_history' },
      ),
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
