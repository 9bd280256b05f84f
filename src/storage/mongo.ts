import {
  type Collection,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import type { LoggedEvent, VoteEvent } from '../contract/events.js';
import type { Message, MessageView, PublicUser, Room } from '../contract/models.js';
import { roomNameKey } from '../contract/text.js';
import { UnavailableError } from '../domain/errors.js';
import { connectMongo } from './mongoConnection.js';
import { keysForExistingRooms, prefixEnd } from './roomKeys.js';
import {
  DuplicateKeyError,
  type LoggedEntry,
  type MessageRepository,
  type NewRoom,
  type RoomListRequest,
  type RoomRecord,
  type RoomRepository,
  type RoomSnapshot,
  type Store,
  type UserRecord,
  type UserRepository,
  type VoteOutcome,
} from './store.js';

/*
 * MongoDB adapter. It must also run on FerretDB 1.24, so it uses no multi-document
 * transactions, collations, $lookup or aggregation: only single-document atomic operations.
 *
 * How a room stays consistent without transactions: the room's event log is the source of
 * truth, and everything else (messages, votes, counts, the room's `seq`) is state derived from it.
 *
 * - A write is COMMITTED by inserting its event at `seq = head + 1`, where `head` is the room's
 *   `seq` (every event up to it is applied, see below). The unique index on { roomId, seq } lets
 *   exactly one writer win each seq; a loser settles the room and retries. The event is computed
 *   from the state at `head` (a vote event carries the totals after the change), and since
 *   nothing after `head` can be applied before `head + 1` exists, a writer that wins read
 *   exactly that state.
 * - A committed event is then APPLIED (message inserted, vote and counts set) and the room's
 *   `seq` advanced past it. Applying is idempotent and never moves state backwards (every
 *   derived document records the seq of the last event applied to it), so any process may apply
 *   any event, any number of times. `settle` applies whatever is committed but not yet applied:
 *   a writer that died between committing and applying is rolled forward by the next one.
 * - So `rooms.seq = h` means every event up to h is applied: a snapshot taken at h holds exactly
 *   the messages with seq <= h, and every vote event's totals are exact for its place in the log.
 *
 * Writes to one room are serialized by the log anyway; within one process they also queue per
 * room (`inRoomOrder`), so concurrent local writers do not spin on the unique index, and appends
 * made one after another get sequence numbers in the same order (and so in message id order).
 */

/** Vote values as stored: 0 is a withdrawn vote, kept so its `seq` still guards against replays. */
type StoredVote = 1 | -1 | 0;

interface UserDoc {
  _id: string;
  username: string;
  /** `username` lowercased: the unique key (FerretDB has no collations). */
  usernameKey: string;
  passwordHash: string;
  createdAt: number;
}

interface RoomDoc {
  _id: string;
  name: string;
  /** `roomNameKey(name)`: unique, and the directory's order. Set at start-up on older rooms. */
  nameKey: string;
  /** Who created the room; missing on rooms the server made or made before owners were kept. */
  owner?: PublicUser;
  createdAt: number;
  /** Every event of the room's log up to this seq is applied. */
  seq: number;
}

interface MessageDoc {
  /** The message's ULID, so `_id` order is creation order. */
  _id: string;
  roomId: string;
  /** Seq of the message's own event: snapshots take messages with seq <= their head. */
  seq: number;
  author: PublicUser;
  body: string;
  createdAt: number;
  up: number;
  down: number;
  /** Seq of the last event that set `up`/`down`. */
  countsSeq: number;
}

interface VoteDoc {
  messageId: string;
  userId: string;
  value: StoredVote;
  /** Seq of the last event that set `value`. */
  seq: number;
}

interface EventDoc {
  roomId: string;
  seq: number;
  payload: LoggedEvent;
}

interface Collections {
  users: Collection<UserDoc>;
  rooms: Collection<RoomDoc>;
  messages: Collection<MessageDoc>;
  votes: Collection<VoteDoc>;
  events: Collection<EventDoc>;
}

export interface MongoStoreOptions {
  /** Overrides the database named in the URL path (default 'chathub'). */
  dbName?: string;
  /** Replace the MongoClient once the database has been unreachable through it this long. */
  reconnectAfterMs?: number;
  onClientReplaced?(unreachableForMs: number): void;
  onReconnectFailed?(error: unknown): void;
}

const DEFAULT_DB_NAME = 'chathub';
const DEFAULT_RECONNECT_AFTER_MS = 5_000;
/** Rounds a writer may lose to writers in other processes before giving up. */
const MAX_COMMIT_ATTEMPTS = 100;
/** Re-reads a snapshot that raced with a write at most this many times (see `snapshot`). */
const MAX_SNAPSHOT_ATTEMPTS = 5;
const SETTLE_BATCH = 100;
const DUPLICATE_KEY = 11000;

/** Connects, creates the indexes (idempotent, safe from several processes at once) and returns the store. */
export async function openMongoStore(url: string, options: MongoStoreOptions = {}): Promise<Store> {
  const connection = await connectMongo(url, {
    dbName: options.dbName ?? dbNameFromUrl(url) ?? DEFAULT_DB_NAME,
    replaceAfterMs: options.reconnectAfterMs ?? DEFAULT_RECONNECT_AFTER_MS,
    onReplaced: options.onClientReplaced,
    onReplaceFailed: options.onReconnectFailed,
  });
  try {
    const collections: Collections = {
      users: connection.collection<UserDoc>('users'),
      rooms: connection.collection<RoomDoc>('rooms'),
      messages: connection.collection<MessageDoc>('messages'),
      votes: connection.collection<VoteDoc>('votes'),
      events: connection.collection<EventDoc>('events'),
    };
    await createIndexes(collections);
    return {
      users: unavailableWhenUnreachable(userRepository(collections)),
      rooms: unavailableWhenUnreachable(roomRepository(collections)),
      messages: unavailableWhenUnreachable(messageRepository(collections)),
      ping: () => connection.ping(),
      close: () => connection.close(),
    };
  } catch (error) {
    await connection.close().catch(() => {});
    throw error;
  }
}

/**
 * Connectivity failures surface as UnavailableError (SERVICE_UNAVAILABLE to callers, who may
 * retry) rather than as internal errors; the driver reconnects on its own meanwhile.
 */
function unavailableWhenUnreachable<T extends object>(repository: T): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(repository)) {
    guarded[name] =
      typeof method === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await method.apply(repository, args);
            } catch (error) {
              throw isUnreachable(error) ? new UnavailableError('The database', error) : error;
            }
          }
        : method;
  }
  return guarded as T;
}

function isUnreachable(error: unknown): boolean {
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    // What operations still in flight get when their client is closed (for example replaced).
    error instanceof MongoClientClosedError ||
    error instanceof MongoServerClosedError
  );
}

/** The database in the URL path (`mongodb://host/<db>?…`), or null when there is none. */
function dbNameFromUrl(url: string): string | null {
  const path = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(url)?.[1];
  return path ? decodeURIComponent(path) : null;
}

async function createIndexes(c: Collections): Promise<void> {
  await keyExistingRooms(c.rooms);
  // Explicit names, so every process asks for the identical index and a repeat is a no-op.
  const create = () =>
    Promise.all([
      c.users.createIndex({ usernameKey: 1 }, { name: 'usernameKey_unique', unique: true }),
      c.rooms.createIndex({ nameKey: 1 }, { name: 'nameKey_unique', unique: true }),
      c.rooms.createIndex({ 'owner.id': 1 }, { name: 'owner_id' }),
      c.messages.createIndex({ roomId: 1, _id: 1 }, { name: 'roomId_id' }),
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

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** Runs `write`, treating a duplicate-key error as "someone else already did it". */
async function ignoringDuplicate(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
}

function userRepository({ users }: Collections): UserRepository {
  return {
    async create(user: UserRecord) {
      try {
        await users.insertOne({
          _id: user.id,
          username: user.username,
          usernameKey: user.username.toLowerCase(),
          passwordHash: user.passwordHash,
          createdAt: user.createdAt,
        });
      } catch (error) {
        if (isDuplicateKey(error)) throw new DuplicateKeyError('username');
        throw error;
      }
    },
    async findByUsername(username: string) {
      const doc = await users.findOne({ usernameKey: username.toLowerCase() });
      if (!doc) return null;
      return {
        id: doc._id,
        username: doc.username,
        passwordHash: doc.passwordHash,
        createdAt: doc.createdAt,
      };
    },
  };
}

function roomRepository({ rooms }: Collections): RoomRepository {
  const toRoom = (doc: RoomDoc): RoomRecord => ({
    id: doc._id,
    name: doc.name,
    createdAt: doc.createdAt,
    owner: doc.owner ? { id: doc.owner.id, username: doc.owner.username } : null,
  });
  return {
    async create(room: NewRoom) {
      try {
        await rooms.insertOne({
          _id: room.id,
          name: room.name,
          nameKey: roomNameKey(room.name),
          ...(room.owner ? { owner: { id: room.owner.id, username: room.owner.username } } : {}),
          createdAt: room.createdAt,
          seq: 0,
        });
      } catch (error) {
        if (isDuplicateKey(error)) throw new DuplicateKeyError('room');
        throw error;
      }
    },
    async ensure(room: Room) {
      // Concurrent upserts of one _id can both try the insert; the loser's duplicate-key error
      // means the room exists, which is all ensure promises.
      await ignoringDuplicate(
        rooms.updateOne(
          { _id: room.id },
          {
            $setOnInsert: {
              name: room.name,
              nameKey: roomNameKey(room.name),
              createdAt: room.createdAt,
              seq: 0,
            },
          },
          { upsert: true },
        ),
      );
    },
    async get(id: string) {
      const doc = await rooms.findOne({ _id: id });
      return doc ? toRoom(doc) : null;
    },
    async list({ afterKey = '', limit, namePrefix }: RoomListRequest) {
      const prefix = namePrefix === undefined ? '' : roomNameKey(namePrefix);
      const nameKey = prefix
        ? { $gt: afterKey, $gte: prefix, $lt: prefixEnd(prefix) }
        : { $gt: afterKey };
      // One past the page tells whether another page follows.
      const docs = await rooms
        .find({ nameKey })
        .sort({ nameKey: 1 })
        .limit(limit + 1)
        .toArray();
      const shown = docs.slice(0, limit);
      return {
        rooms: shown.map(toRoom),
        nextKey: docs.length > limit ? (shown.at(-1)?.nameKey ?? null) : null,
      };
    },
    countOwnedBy(userId: string) {
      return rooms.countDocuments({ 'owner.id': userId });
    },
  };
}

/** What a writer decided after reading the state at the room's head. */
type Plan<T> = { event: LoggedEvent; result: (entry: LoggedEntry) => T } | { done: T };

function messageRepository(c: Collections): MessageRepository {
  const { rooms, messages, votes, events } = c;

  /** Tail of each room's queue of local writers. */
  const queues = new Map<string, Promise<unknown>>();
  const inRoomOrder = <T>(roomId: string, task: () => Promise<T>): Promise<T> => {
    const result = (queues.get(roomId) ?? Promise.resolve()).then(task);
    const tail = result.catch(() => {});
    queues.set(roomId, tail);
    void tail.then(() => {
      if (queues.get(roomId) === tail) queues.delete(roomId);
    });
    return result;
  };

  /** Makes the derived state reflect `entry`. Idempotent; never undoes a later event. */
  const apply = async (roomId: string, { seq, event }: LoggedEntry): Promise<void> => {
    if (event.type === 'message') {
      const { message } = event;
      await ignoringDuplicate(
        messages.insertOne({
          _id: message.id,
          roomId,
          seq,
          author: { id: message.author.id, username: message.author.username },
          body: message.body,
          createdAt: message.createdAt,
          up: message.up,
          down: message.down,
          countsSeq: seq,
        }),
      );
    } else {
      const value: StoredVote = event.vote === 'up' ? 1 : event.vote === 'down' ? -1 : 0;
      await Promise.all([
        // Matches only a vote older than this event; when a newer one exists the upsert's
        // insert hits the unique index, and the newer vote rightly stays.
        ignoringDuplicate(
          votes.updateOne(
            { messageId: event.messageId, userId: event.voterId, seq: { $lt: seq } },
            { $set: { value, seq } },
            { upsert: true },
          ),
        ),
        messages.updateOne(
          { _id: event.messageId, countsSeq: { $lt: seq } },
          { $set: { up: event.up, down: event.down, countsSeq: seq } },
        ),
      ]);
    }
    await rooms.updateOne({ _id: roomId, seq: { $lt: seq } }, { $set: { seq } });
  };

  /** The room's `seq`: every event up to it is applied. Null when the room does not exist. */
  const appliedHead = async (roomId: string): Promise<number | null> => {
    const room = await rooms.findOne({ _id: roomId }, { projection: { seq: 1 } });
    return room ? room.seq : null;
  };

  /**
   * Applies every committed event not yet applied (normally none: writers apply their own;
   * these are in flight elsewhere, or their writer died) and returns the room's head, or null
   * when the room does not exist. Afterwards, every event up to the head is applied.
   */
  const settle = async (roomId: string): Promise<number | null> => {
    let head = await appliedHead(roomId);
    if (head === null) return null;
    for (;;) {
      const pending = await events
        .find({ roomId, seq: { $gt: head } })
        .sort({ seq: 1 })
        .limit(SETTLE_BATCH)
        .toArray();
      if (pending.length === 0) return head;
      for (const { seq, payload } of pending) {
        await apply(roomId, { seq, event: payload });
        head = seq;
      }
    }
  };

  /**
   * Lets `plan` decide from the state at the room's head and commits its event at head + 1.
   * The state read is exact without scanning for pending events: if one existed at head + 1,
   * the insert fails; then we settle (applying it) and plan again from the new head.
   */
  const commit = <T>(roomId: string, plan: (head: number) => Promise<Plan<T>>): Promise<T> =>
    inRoomOrder(roomId, async () => {
      let head = await appliedHead(roomId);
      for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
        if (head === null) throw new Error(`room ${roomId} does not exist`);
        const decision = await plan(head);
        if ('done' in decision) return decision.done;
        const entry: LoggedEntry = { seq: head + 1, event: decision.event };
        try {
          await events.insertOne({ roomId, seq: entry.seq, payload: entry.event });
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          head = await settle(roomId);
          continue;
        }
        await apply(roomId, entry);
        return decision.result(entry);
      }
      throw new Error(`room ${roomId}: gave up after ${MAX_COMMIT_ATTEMPTS} conflicting writes`);
    });

  /** The latest vote entry at or before `head` matching `filter`, or null. */
  const latestVote = async (roomId: string, head: number, filter: Record<string, string>) => {
    const entry = await events.findOne(
      { roomId, seq: { $lte: head }, 'payload.type': 'vote', ...filter },
      { sort: { seq: -1 } },
    );
    return entry?.payload.type === 'vote' ? entry.payload : null;
  };

  /** The viewer's votes on `docs`, as MessageViews in the order given. */
  const withMyVotes = async (docs: MessageDoc[], viewerId: string) => {
    const mine =
      docs.length === 0
        ? []
        : await votes
            .find({ userId: viewerId, messageId: { $in: docs.map((doc) => doc._id) } })
            .toArray();
    const byMessage = new Map(mine.map((vote) => [vote.messageId, vote]));
    return {
      views: docs.map((doc) => toMessageView(doc, byMessage.get(doc._id)?.value ?? 0)),
      votes: mine,
    };
  };

  /** Newest first, one past `limit` so the caller can tell whether more exist. */
  const newestFirst = (roomId: string, before: string | undefined, limit: number, head?: number) =>
    messages
      .find({
        roomId,
        ...(before === undefined ? {} : { _id: { $lt: before } }),
        ...(head === undefined ? {} : { seq: { $lte: head } }),
      })
      .sort({ _id: -1 })
      .limit(limit + 1)
      .toArray();

  return {
    append(message: Message) {
      return commit(message.roomId, async () => ({
        event: { type: 'message', message },
        result: (entry) => entry,
      }));
    },

    async vote(messageId, userId, value): Promise<VoteOutcome | null> {
      const target = await messages.findOne({ _id: messageId }, { projection: { roomId: 1 } });
      if (!target) return null;
      const { roomId } = target;
      return commit(roomId, async (head): Promise<Plan<VoteOutcome>> => {
        // Decided from the log, which is insert-only: conditional updates of derived documents
        // are not atomic across connections on every MongoDB-protocol server (FerretDB reads,
        // then writes), but log entries never change once committed.
        const [lastCounts, lastMine] = await Promise.all([
          latestVote(roomId, head, { 'payload.messageId': messageId }),
          latestVote(roomId, head, { 'payload.messageId': messageId, 'payload.voterId': userId }),
        ]);
        const counts = lastCounts ?? { up: 0, down: 0 };
        const previous: StoredVote =
          lastMine?.vote === 'up' ? 1 : lastMine?.vote === 'down' ? -1 : 0;
        const next: StoredVote = value === 'up' ? 1 : value === 'down' ? -1 : 0;
        if (previous === next) {
          return { done: { roomId, up: counts.up, down: counts.down, entry: null } };
        }
        const event: VoteEvent = {
          type: 'vote',
          messageId,
          up: counts.up + Number(next === 1) - Number(previous === 1),
          down: counts.down + Number(next === -1) - Number(previous === -1),
          voterId: userId,
          vote: value,
        };
        return {
          event,
          result: (entry) => ({ roomId, up: event.up, down: event.down, entry }),
        };
      });
    },

    async snapshot(roomId, limit, viewerId): Promise<RoomSnapshot> {
      for (let attempt = 1; ; attempt++) {
        const head = await settle(roomId);
        if (head === null) return { head: 0, messages: [], hasMore: false };
        const docs = await newestFirst(roomId, undefined, limit, head);
        const page = docs.slice(0, limit);
        const { views, votes: mine } = await withMyVotes(page, viewerId);
        // A write committed while we read may already show in counts or votes: then what we
        // read is newer than `head`. Read again (rarely needed); if writes keep winning, the
        // newer counts are still safe, as the events after `head` carry absolute totals.
        const newer =
          page.some((doc) => doc.countsSeq > head) || mine.some((vote) => vote.seq > head);
        if (!newer || attempt >= MAX_SNAPSHOT_ATTEMPTS) {
          return { head, messages: views.reverse(), hasMore: docs.length > limit };
        }
      }
    },

    async page(roomId, before, limit, viewerId) {
      const docs = await newestFirst(roomId, before, limit);
      const { views } = await withMyVotes(docs.slice(0, limit), viewerId);
      return { messages: views.reverse(), hasMore: docs.length > limit };
    },

    async head(roomId) {
      // Settled, so the head is the latest committed entry and everything up to it is applied.
      return (await settle(roomId)) ?? 0;
    },

    async eventsAfter(roomId, seq, limit) {
      const docs = await events
        .find({ roomId, seq: { $gt: seq } })
        .sort({ seq: 1 })
        .limit(limit)
        .toArray();
      return docs.map((doc) => ({ seq: doc.seq, event: doc.payload }));
    },
  };
}

function toMessageView(doc: MessageDoc, myVote: StoredVote): MessageView {
  return {
    id: doc._id,
    roomId: doc.roomId,
    author: { id: doc.author.id, username: doc.author.username },
    body: doc.body,
    createdAt: doc.createdAt,
    up: doc.up,
    down: doc.down,
    myVote: myVote === 1 ? 'up' : myVote === -1 ? 'down' : null,
  };
}
