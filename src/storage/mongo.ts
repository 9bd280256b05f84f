import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Collection,
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type WriteError,
} from 'mongodb';
import type { LoggedEvent, VoteEvent } from '../contract/events.js';
import { LIMITS } from '../contract/limits.js';
import type { Message, MessageView, PublicUser } from '../contract/models.js';
import type { VoteValue } from '../contract/schemas.js';
import { roomNameKey } from '../contract/text.js';
import { UnavailableError } from '../domain/errors.js';
import { groupCommit, MAX_BATCH, type QueuedWrite } from './groupCommit.js';
import {
  type DecidedChange,
  decideChange,
  type MessageChange,
  withoutBody,
} from './messageChanges.js';
import { connectMongo } from './mongoConnection.js';
import { keysForExistingRooms, prefixEnd } from './roomKeys.js';
import {
  type ChangeOutcome,
  DuplicateKeyError,
  DuplicateMessageError,
  type LoggedEntry,
  MessageRemovedError,
  type MessageRepository,
  type NewRoom,
  type RoomListRequest,
  RoomNotFoundError,
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
 * transactions, collations, $lookup or aggregation: only single-document atomic operations and
 * ordered multi-document inserts (which stop at the first duplicate key).
 *
 * How a room stays consistent without transactions: the room's event log is the source of
 * truth, and everything else (messages, votes, counts, the room's `seq`) is state derived from it.
 *
 * - A write is COMMITTED by inserting its event at `seq = head + 1`, where `head` is the last
 *   entry of the log. The unique index on { roomId, seq } (and the entry's `_id`, which names the
 *   room and seq) lets exactly one writer win each seq. The event is decided from the state at
 *   `head` (a vote event carries the totals after the change); since an insert at head + 1 fails
 *   when anything is logged past `head`, a writer whose insert succeeds decided from exactly the
 *   log before its entry.
 * - GROUP COMMIT: a process queues each room's writes and commits what queued while the previous
 *   batch was in flight as one ordered insert of consecutive entries, applies them with one bulk
 *   write per collection, and advances the room's `seq` once (`commitBatch`).
 * - A committed event is then APPLIED (message inserted, vote and counts set) and the room's
 *   `seq` advanced past it. Applying is idempotent and never moves state backwards (every
 *   derived document records the seq of the last event applied to it), so any process may apply
 *   any event, any number of times. A writer that died between committing and applying is
 *   rolled forward by the next writer, whose insert meets its entries, or by `settle`.
 * - So `rooms.seq = h` means every event up to h is applied: a snapshot taken at h holds exactly
 *   the messages with seq <= h, and every vote event's totals are exact for its place in the log.
 *
 * Racing writers read the room document, not the log. A writer that loses the race for
 * head + 1 claims the room's next turn (a writer about to commit again yields to a claim) and
 * waits, for CATCH_UP_WAIT_MS at most, until the winner has applied its entries and advanced the
 * room's `seq`; then it decides again from there. `settle` (head, snapshot) looks one entry
 * past the room's `seq` and, when there is one, waits the same way. Only a writer that is slow
 * or dead has its insert read and applied by others (`rollForward`), so derived documents are
 * written by one process at a time but after a crash: FerretDB's conditional updates read, then
 * write, and two processes applying different entries to one document at once could leave the
 * older one. An entry is found by its `_id` (`eventKey`): FerretDB 1.24 hands
 * only an `_id` equality to SQLite and decodes every document of a collection to filter on
 * anything else. Each entry records where the insert that wrote it ended (`batchEnd`), so the
 * rest of that insert is one query on { roomId, seq }. On MongoDB these are index reads that
 * start with the room, so they stay targeted when the log is sharded by room.
 *
 * Entries written before group commit have an ObjectId `_id` and no `batchEnd`. They need no
 * migration: those up to the room's `seq` are applied and read only by `eventsAfter`, which
 * queries { roomId, seq }; one past it (its writer died, or an older server is still writing
 * during a rolling upgrade) makes the next insert fail on the { roomId, seq } index, and the
 * writer then finds it by that index (`readInsertAt`). Derived documents keep their shapes, so
 * older servers and this one can write the same room during a rolling upgrade.
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
  // Fields below are missing on messages stored before edits, pins and answers existed.
  editedAt?: number | null;
  removed?: boolean;
  pinned?: boolean;
  answered?: boolean;
  clientMessageId?: string | null;
  /** Seq of the last event that set `body` (the message's own, an edit, the removal). */
  bodySeq?: number;
  /** Seq of the last event that set `pinned` (a pin, an unpin, the removal): newest pin first. */
  pinSeq?: number;
  /** Seq of the last event that set `answered`. */
  answerSeq?: number;
  /** Seqs of the entries besides the message's own that carry its body (edits, pins), for a removal to scrub. */
  bodySeqs?: number[];
}

/** A message posted with a `clientMessageId`: its key makes a retry find it (see `sendKey`). */
interface SendDoc {
  _id: string;
  messageId: string;
}

/** How far a user has read a room. */
interface ReadMarkDoc {
  /** `${userId}/${roomId}`. */
  _id: string;
  userId: string;
  roomId: string;
  seq: number;
}

interface VoteDoc {
  messageId: string;
  userId: string;
  value: StoredVote;
  /** Seq of the last event that set `value`. */
  seq: number;
}

interface EventDoc {
  /**
   * `eventKey(roomId, seq)`, so that finding an entry is a lookup by `_id` (the one filter
   * FerretDB hands to its backend). Entries written before group commit have an ObjectId.
   */
  _id: string;
  roomId: string;
  seq: number;
  payload: LoggedEvent;
  /** Seq of the last entry the same insert wrote (absent on entries written before group commit). */
  batchEnd?: number;
}

/** A writer's claim on its room's next turn (see `claimTurn`). */
interface ClaimDoc {
  /** The room. */
  _id: string;
  writer: string;
}

interface Collections {
  users: Collection<UserDoc>;
  rooms: Collection<RoomDoc>;
  messages: Collection<MessageDoc>;
  votes: Collection<VoteDoc>;
  events: Collection<EventDoc>;
  claims: Collection<ClaimDoc>;
  sends: Collection<SendDoc>;
  readMarks: Collection<ReadMarkDoc>;
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
/** Races a batch may lose to writers in other processes before giving up. */
const MAX_COMMIT_ROUNDS = 100;
/** Re-reads a snapshot that raced with a write at most this many times (see `snapshot`). */
const MAX_SNAPSHOT_ATTEMPTS = 5;
/** How long a writer that lost a race waits for the winner to apply before applying its entries itself. */
const CATCH_UP_WAIT_MS = 1_000;
/** How long a writer waits for another's claim on the room's next turn before removing it. */
const CLAIM_WAIT_MS = 500;
/** Longest pause between two looks at the room while waiting for another writer. */
const MAX_POLL_PAUSE_MS = 16;
/** Digits of the zero-padded seq in an event's key: every seq a client can name (eventIdSchema). */
const EVENT_KEY_DIGITS = 15;
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
      claims: connection.collection<ClaimDoc>('claims'),
      sends: connection.collection<SendDoc>('sends'),
      readMarks: connection.collection<ReadMarkDoc>('readMarks'),
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
    async ensure(room: NewRoom) {
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

/** What a queued write decided from the room's state: an event to log, or an answer without one. */
type Decision = { event: LoggedEvent; committed(entry: LoggedEntry): void } | { answer(): void };

/**
 * A derived document a write decides from: a message, and with `voterId` that voter's vote; or
 * with `sendKey` the message its author posted with that client id (see `sendKey`).
 */
type StateKey = { messageId: string; voterId?: string } | { sendKey: string };

/** A write waiting in its room's queue (see `groupCommit`). */
interface RoomWrite extends QueuedWrite {
  /** The derived documents `decide` reads. */
  readonly reads: StateKey[];
  /** Decides from the room's state at the head its event would follow; may be asked again. */
  decide(state: RoomState): Decision;
}

/** What one log entry does to the derived documents: `apply` writes it, `RoomState` folds it in. */
type Effect =
  | { kind: 'message'; doc: MessageDoc }
  | { kind: 'send'; key: string; messageId: string }
  | { kind: 'vote'; messageId: string; voterId: string; seq: number; value: StoredVote }
  | MessageEffect;
/** Effects that change a message document, each guarded by the seq of its field group. */
type MessageEffect =
  | { kind: 'counts'; messageId: string; seq: number; up: number; down: number }
  | {
      kind: 'body';
      messageId: string;
      seq: number;
      body: string;
      /** Unset by a removal, which keeps the time of the last edit. */
      editedAt?: number;
      removed: boolean;
      /** Whether the entry itself carries the body (an edit; not the removal). */
      carried: boolean;
    }
  | { kind: 'pin'; messageId: string; seq: number; pinned: boolean; carried: boolean }
  | { kind: 'answer'; messageId: string; seq: number; answered: boolean };
type CountsEffect = Extract<Effect, { kind: 'counts' }>;
type VoteEffect = Extract<Effect, { kind: 'vote' }>;

function effectsOf(roomId: string, { seq, event }: LoggedEntry): Effect[] {
  switch (event.type) {
    case 'message': {
      const { message } = event;
      const doc: MessageDoc = {
        _id: message.id,
        roomId,
        seq,
        author: { id: message.author.id, username: message.author.username },
        body: message.body,
        createdAt: message.createdAt,
        up: message.up,
        down: message.down,
        countsSeq: seq,
        editedAt: null,
        removed: false,
        pinned: false,
        answered: false,
        clientMessageId: message.clientMessageId,
        bodySeq: seq,
        pinSeq: 0,
        answerSeq: 0,
        bodySeqs: [],
      };
      const { clientMessageId } = message;
      return clientMessageId === null
        ? [{ kind: 'message', doc }]
        : [
            { kind: 'message', doc },
            {
              kind: 'send',
              key: sendKey(roomId, message.author.id, clientMessageId),
              messageId: message.id,
            },
          ];
    }
    case 'vote':
      return [
        { kind: 'counts', messageId: event.messageId, seq, up: event.up, down: event.down },
        {
          kind: 'vote',
          messageId: event.messageId,
          voterId: event.voterId,
          seq,
          value: storedVote(event.vote),
        },
      ];
    case 'edit': {
      const { messageId, body, editedAt } = event;
      return [{ kind: 'body', messageId, seq, body, editedAt, removed: false, carried: true }];
    }
    case 'remove': {
      const { messageId } = event;
      return [
        { kind: 'body', messageId, seq, body: '', removed: true, carried: false },
        { kind: 'pin', messageId, seq, pinned: false, carried: false },
      ];
    }
    case 'pin':
      return [
        {
          kind: 'pin',
          messageId: event.messageId,
          seq,
          pinned: event.pinned,
          carried: event.message !== null,
        },
      ];
    case 'answer':
      return [{ kind: 'answer', messageId: event.messageId, seq, answered: event.answered }];
  }
}

function isMessageEffect(effect: Effect): effect is MessageEffect {
  return (
    effect.kind === 'counts' ||
    effect.kind === 'body' ||
    effect.kind === 'pin' ||
    effect.kind === 'answer'
  );
}

/** The seq a message's field group was last set by; messages stored before it existed count from their own seq. */
function seqOf(doc: MessageDoc, kind: MessageEffect['kind']): number {
  switch (kind) {
    case 'counts':
      return doc.countsSeq;
    case 'body':
      return doc.bodySeq ?? doc.seq;
    case 'pin':
      return doc.pinSeq ?? 0;
    case 'answer':
      return doc.answerSeq ?? 0;
  }
}

/** The field names of `seqOf`, for the same guard in a database filter. */
const SEQ_FIELD = {
  counts: 'countsSeq',
  body: 'bodySeq',
  pin: 'pinSeq',
  answer: 'answerSeq',
} as const;

/** What `effect` sets on its message. */
function changesOf(effect: MessageEffect): Partial<MessageDoc> {
  switch (effect.kind) {
    case 'counts':
      return { up: effect.up, down: effect.down, countsSeq: effect.seq };
    case 'body':
      return {
        body: effect.body,
        removed: effect.removed,
        bodySeq: effect.seq,
        ...(effect.editedAt === undefined ? {} : { editedAt: effect.editedAt }),
      };
    case 'pin':
      return { pinned: effect.pinned, pinSeq: effect.seq };
    case 'answer':
      return { answered: effect.answered, answerSeq: effect.seq };
  }
}

/** The message document once `effect` is applied; unchanged when it already reflects it. */
function withEffect(doc: MessageDoc, effect: MessageEffect): MessageDoc {
  if (seqOf(doc, effect.kind) >= effect.seq) return doc;
  const carried = effect.kind !== 'counts' && effect.kind !== 'answer' && effect.carried;
  return {
    ...doc,
    ...changesOf(effect),
    ...(carried ? { bodySeqs: [...(doc.bodySeqs ?? []), effect.seq] } : {}),
  };
}

function storedVote(value: VoteValue): StoredVote {
  return value === 'up' ? 1 : value === 'down' ? -1 : 0;
}

const voteKey = (messageId: string, voterId: string) => `${messageId}/${voterId}`;

/** A message's client id is unique per author and room: a retry is decided in the room's queue. */
export function sendKey(roomId: string, authorId: string, clientMessageId: string): string {
  return `${roomId}/${authorId}/${clientMessageId}`;
}

interface VoteState {
  value: StoredVote;
  seq: number;
}
const NO_VOTE: VoteState = { value: 0, seq: 0 };

/**
 * The derived documents a batch decides from, read at the room's head (every entry up to it
 * applied). Deciding folds each drafted entry in, so a later write of the batch sees the earlier
 * ones: two votes of one user in one batch give what two calls in a row would, and a retry of a
 * send drafted earlier in the batch finds it. Each document carries the seq of the last event
 * that set each of its parts, and an entry it already reflects is skipped.
 */
class RoomState {
  private constructor(
    /** Message documents read (null: no such message) or drafted. */
    private readonly messages: Map<string, MessageDoc | null>,
    private readonly votes: Map<string, VoteState>,
    /** Send keys read, and the message each names (null: none yet). */
    private readonly sends: Map<string, string | null>,
  ) {}

  static async read(c: Collections, keys: StateKey[]): Promise<RoomState> {
    const messageIds = new Set<string>();
    const voters: { messageId: string; voterId: string }[] = [];
    const sendKeys = new Set<string>();
    for (const key of keys) {
      if ('sendKey' in key) {
        sendKeys.add(key.sendKey);
        continue;
      }
      messageIds.add(key.messageId);
      if (key.voterId !== undefined)
        voters.push({ messageId: key.messageId, voterId: key.voterId });
    }
    const [sendDocs, voteDocs] = await Promise.all([
      // One lookup by _id each: the one filter FerretDB does not answer by reading everything.
      Promise.all([...sendKeys].map((key) => c.sends.findOne({ _id: key }))),
      voters.length === 0
        ? []
        : c.votes
            .find({
              messageId: { $in: [...new Set(voters.map((voter) => voter.messageId))] },
              userId: { $in: [...new Set(voters.map((voter) => voter.voterId))] },
            })
            .toArray(),
    ]);
    const sends = new Map<string, string | null>([...sendKeys].map((key) => [key, null]));
    for (const doc of sendDocs) {
      if (!doc) continue;
      sends.set(doc._id, doc.messageId);
      messageIds.add(doc.messageId);
    }
    const ids = [...messageIds];
    const docs = await Promise.all(ids.map((id) => c.messages.findOne({ _id: id })));
    const messages = new Map(ids.map((id, index) => [id, docs[index] ?? null]));
    const votes = new Map(
      voters.map(({ messageId, voterId }): [string, VoteState] => [
        voteKey(messageId, voterId),
        NO_VOTE,
      ]),
    );
    for (const doc of voteDocs) {
      const key = voteKey(doc.messageId, doc.userId);
      if (votes.has(key)) votes.set(key, { value: doc.value, seq: doc.seq });
    }
    return new RoomState(messages, votes, sends);
  }

  /** The message as it is, or null when the room has no such message. */
  message(messageId: string): MessageDoc | null {
    const doc = this.messages.get(messageId);
    if (doc === undefined) throw new Error(`message ${messageId} was not read`);
    return doc;
  }

  vote(messageId: string, voterId: string): StoredVote {
    const state = this.votes.get(voteKey(messageId, voterId));
    if (!state) throw new Error(`the vote of ${voterId} on ${messageId} was not read`);
    return state.value;
  }

  /** The message posted with this send key, or null when there is none yet. */
  sent(key: string): MessageDoc | null {
    const messageId = this.sends.get(key);
    if (messageId === undefined) throw new Error(`send ${key} was not read`);
    return messageId === null ? null : this.message(messageId);
  }

  /** Brings the documents read up to `entry`, the next one in the log. */
  fold(roomId: string, entry: LoggedEntry): void {
    for (const effect of effectsOf(roomId, entry)) {
      if (isMessageEffect(effect)) {
        const doc = this.messages.get(effect.messageId);
        if (doc) this.messages.set(effect.messageId, withEffect(doc, effect));
        continue;
      }
      switch (effect.kind) {
        case 'message':
          if (!this.messages.get(effect.doc._id)) this.messages.set(effect.doc._id, effect.doc);
          break;
        case 'send':
          if (this.sends.has(effect.key)) this.sends.set(effect.key, effect.messageId);
          break;
        case 'vote': {
          const key = voteKey(effect.messageId, effect.voterId);
          const state = this.votes.get(key);
          if (state && state.seq < effect.seq) this.votes.set(key, effect);
          break;
        }
      }
    }
  }

  clone(): RoomState {
    return new RoomState(new Map(this.messages), new Map(this.votes), new Map(this.sends));
  }
}

/** A log entry's key: the room, then the seq zero-padded so that key order is log order. */
export function eventKey(roomId: string, seq: number): string {
  return `${roomId}/${String(seq).padStart(EVENT_KEY_DIGITS, '0')}`;
}

interface StoredEntry extends LoggedEntry {
  /** Where the insert that wrote this entry ended. */
  batchEnd: number;
}

function toEntry(doc: EventDoc): StoredEntry {
  return { seq: doc.seq, event: doc.payload, batchEnd: doc.batchEnd ?? doc.seq };
}

function writeErrorsOf(error: unknown): WriteError[] {
  return error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
}

/**
 * What made a bulk write fail: a bulk write that failed as a whole (the server unreachable, say)
 * carries the error in `errorResponse`, which is then what callers must see.
 */
function failureOf(error: unknown): unknown {
  const whole = error instanceof MongoBulkWriteError && writeErrorsOf(error).length === 0;
  return whole && error.errorResponse instanceof Error ? error.errorResponse : error;
}

/** Awaits a bulk write that may hit duplicate keys; returns the indexes of the operations that did. */
async function duplicatesIn(write: Promise<unknown>): Promise<number[]> {
  try {
    await write;
    return [];
  } catch (error) {
    const errors = writeErrorsOf(error);
    if (errors.length === 0 || errors.some((each) => each.code !== DUPLICATE_KEY)) {
      throw failureOf(error);
    }
    return errors.map((each) => each.index);
  }
}

function messageRepository(c: Collections): MessageRepository {
  const { rooms, messages, votes, events, claims, readMarks } = c;
  /** Names this process's claims (see `claimTurn`). */
  const writerId = randomUUID();
  /** Per room, the last seq this process knows is logged and applied: where its next insert goes. */
  const heads = new Map<string, number>();

  /** The room's `seq`: every event up to it is applied. Null when the room does not exist. */
  const appliedHead = async (roomId: string): Promise<number | null> => {
    const room = await rooms.findOne({ _id: roomId }, { projection: { seq: 1 } });
    return room ? room.seq : null;
  };

  const advance = async (roomId: string, head: number): Promise<void> => {
    await rooms.updateOne({ _id: roomId }, { $max: { seq: head } });
  };

  /** Inserts consecutive entries in order; returns how many went in before a seq already taken. */
  const insertEntries = async (roomId: string, entries: LoggedEntry[]): Promise<number> => {
    const batchEnd = entries.at(-1)?.seq;
    const docs = entries.map(({ seq, event }) => ({
      _id: eventKey(roomId, seq),
      roomId,
      seq,
      payload: event,
      batchEnd,
    }));
    try {
      await events.insertMany(docs, { ordered: true });
      return entries.length;
    } catch (error) {
      const [first] = writeErrorsOf(error);
      if (first?.code === DUPLICATE_KEY) return first.index;
      throw failureOf(error);
    }
  };

  const readEntry = async (roomId: string, seq: number): Promise<StoredEntry | null> => {
    const doc = await events.findOne({ _id: eventKey(roomId, seq) });
    return doc && toEntry(doc);
  };

  /**
   * The entries logged from `seq` on by the insert that wrote `seq`, oldest first: [] when nothing
   * is logged at `seq`. The first is looked up by key; its writer recorded where that insert
   * ended, and any others are read with one query on { roomId, seq }. `taken`: an insert at `seq`
   * just failed, so an entry is there, perhaps one written before entries had keys.
   */
  const readInsertAt = async (
    roomId: string,
    seq: number,
    taken: boolean,
  ): Promise<LoggedEntry[]> => {
    let first = await readEntry(roomId, seq);
    if (!first && taken) {
      const unkeyed = await events.findOne({ roomId, seq });
      if (!unkeyed) throw new Error(`room ${roomId}: entry ${seq} is taken but cannot be read`);
      first = toEntry(unkeyed);
    }
    if (!first) return [];
    const entries: LoggedEntry[] = [first];
    const last = Math.min(first.batchEnd, seq + MAX_BATCH - 1);
    if (last === seq) return entries;
    const rest = await events
      .find({ roomId, seq: { $gt: seq, $lte: last } })
      .sort({ seq: 1 })
      .toArray();
    for (const doc of rest) {
      // A writer that lost part of its insert to another leaves a shorter run than it recorded.
      if (doc.seq !== seq + entries.length) break;
      entries.push(toEntry(doc));
    }
    return entries;
  };

  /**
   * Makes the derived documents reflect `entries` (in log order), then takes the body of every
   * message they remove out of the log. Idempotent.
   */
  const apply = async (roomId: string, entries: LoggedEntry[]): Promise<void> => {
    const inserts = new Map<string, MessageDoc>();
    const counts = new Map<string, CountsEffect>();
    const voteChanges = new Map<string, VoteEffect>();
    /** Edits, removals, pins and answers, in log order. */
    const changes: Exclude<MessageEffect, CountsEffect>[] = [];
    const sendDocs: SendDoc[] = [];
    const removed = new Set<string>();
    for (const entry of entries) {
      for (const effect of effectsOf(roomId, entry)) {
        switch (effect.kind) {
          case 'message':
            inserts.set(effect.doc._id, effect.doc);
            break;
          case 'send':
            sendDocs.push({ _id: effect.key, messageId: effect.messageId });
            break;
          case 'vote':
            voteChanges.set(voteKey(effect.messageId, effect.voterId), effect);
            break;
          default: {
            const doc = inserts.get(effect.messageId);
            if (doc) inserts.set(doc._id, withEffect(doc, effect));
            if (effect.kind === 'counts') counts.set(effect.messageId, effect);
            else changes.push(effect);
            if (effect.kind === 'body' && effect.removed) removed.add(effect.messageId);
          }
        }
      }
    }
    const fresh = [...inserts.values()];
    const [existing] = await Promise.all([
      fresh.length === 0
        ? []
        : duplicatesIn(messages.insertMany(fresh, { ordered: false })).then((indexes) =>
            indexes.flatMap((index) => fresh[index]?._id ?? []),
          ),
      setCounts([...counts.values()].filter((effect) => !inserts.has(effect.messageId))),
      setVotes([...voteChanges.values()]),
      sendDocs.length === 0 ? [] : duplicatesIn(c.sends.insertMany(sendDocs, { ordered: false })),
    ]);
    // A message another writer inserted first may hold counts and changes older than these entries'.
    const inserted = new Set(fresh.map((doc) => doc._id));
    for (const id of existing) inserted.delete(id);
    await Promise.all([
      setCounts(existing.flatMap((id) => counts.get(id) ?? [])),
      setChanges(changes.filter((effect) => !inserted.has(effect.messageId))),
    ]);
    if (removed.size > 0) await scrub(roomId, [...removed]);
  };

  /** Applies edits, removals, pins and answers in order, each only to a message older than it. */
  const setChanges = async (effects: Exclude<MessageEffect, CountsEffect>[]): Promise<void> => {
    if (effects.length === 0) return;
    await messages.bulkWrite(
      effects.map((effect) => {
        const field = SEQ_FIELD[effect.kind];
        const carried = effect.kind !== 'answer' && effect.carried;
        return {
          updateOne: {
            // Messages stored before these fields existed have none of the seqs yet.
            filter: {
              _id: effect.messageId,
              $or: [{ [field]: { $lt: effect.seq } }, { [field]: { $exists: false } }],
            },
            update: {
              $set: changesOf(effect),
              ...(carried ? { $addToSet: { bodySeqs: effect.seq } } : {}),
            },
          },
        };
      }),
      { ordered: true },
    );
  };

  /**
   * Takes the body of removed messages out of every log entry that carries it: each message's own
   * entry and those its document lists (edits, pins). Entries written before entries had keys are
   * found by { roomId, seq }.
   */
  const scrub = async (roomId: string, messageIds: string[]): Promise<void> => {
    // Lookups by _id, a few per message: FerretDB reads a whole collection for anything else.
    const docs = await Promise.all(
      messageIds.map((id) =>
        messages.findOne({ _id: id }, { projection: { seq: 1, bodySeqs: 1 } }),
      ),
    );
    const seqs = docs.flatMap((doc) => (doc ? [doc.seq, ...(doc.bodySeqs ?? [])] : []));
    const keyed = (
      await Promise.all(seqs.map((seq) => events.findOne({ _id: eventKey(roomId, seq) })))
    ).flatMap((doc) => (doc ? [doc] : []));
    const found = new Set(keyed.map((doc) => doc.seq));
    const missing = seqs.filter((seq) => !found.has(seq));
    const unkeyed =
      missing.length === 0 ? [] : await events.find({ roomId, seq: { $in: missing } }).toArray();
    const entries = [...keyed, ...unkeyed];
    if (entries.length === 0) return;
    await events.bulkWrite(
      entries.map((doc) => ({
        updateOne: {
          filter: { _id: doc._id },
          update: { $set: { payload: withoutBody(doc.payload) } },
        },
      })),
      { ordered: false },
    );
  };

  /** Only a document older than the change is updated, so a replay never moves counts backwards. */
  const setCounts = async (changes: CountsEffect[]): Promise<void> => {
    if (changes.length === 0) return;
    // No upsert, so no duplicate key: this only passes on what made the write fail.
    await duplicatesIn(
      messages.bulkWrite(
        changes.map(({ messageId, seq, up, down }) => ({
          updateOne: {
            filter: { _id: messageId, countsSeq: { $lt: seq } },
            update: { $set: { up, down, countsSeq: seq } },
          },
        })),
        { ordered: false },
      ),
    );
  };

  /**
   * Matches only a vote older than the change; when a newer one exists the upsert's insert hits
   * the unique index, and the newer vote rightly stays.
   */
  const setVotes = async (changes: VoteEffect[]): Promise<void> => {
    if (changes.length === 0) return;
    await duplicatesIn(
      votes.bulkWrite(
        changes.map(({ messageId, voterId, seq, value }) => ({
          updateOne: {
            filter: { messageId, userId: voterId, seq: { $lt: seq } },
            update: { $set: { value, seq } },
            upsert: true,
          },
        })),
        { ordered: false },
      ),
    );
  };

  /** Reads and applies the entries after `applied` through at least `seq`; returns the head reached. */
  const rollForward = async (roomId: string, applied: number, seq: number): Promise<number> => {
    const entries: LoggedEntry[] = [];
    let head = applied;
    while (head < seq) {
      // Every seq up to `seq` is taken: the log has no gaps.
      for (const entry of await readInsertAt(roomId, head + 1, true)) {
        entries.push(entry);
        head = entry.seq;
      }
    }
    await apply(roomId, entries);
    await advance(roomId, head);
    return head;
  };

  /**
   * After losing `seq` to another writer: the new head, with every entry up to it applied. The
   * winner applies its entries and advances the room's `seq` a few round trips after its insert,
   * so this waits for that, reading only the room; a winner that has not done it within
   * CATCH_UP_WAIT_MS is slow or dead, and its entries are then read and applied here.
   */
  const catchUp = async (roomId: string, seq: number): Promise<number> => {
    const deadline = Date.now() + CATCH_UP_WAIT_MS;
    for (let pause = 1; ; pause = Math.min(pause * 2, MAX_POLL_PAUSE_MS)) {
      const applied = await appliedHead(roomId);
      if (applied === null) throw new RoomNotFoundError(roomId);
      if (applied >= seq) return applied;
      if (Date.now() >= deadline) return rollForward(roomId, applied, seq);
      await sleep(pause);
    }
  };

  /**
   * The room's head, or null when the room does not exist; every entry up to it is applied, and
   * it is at least every entry a writer has told its caller about (writers advance the room's
   * `seq` before they reply). Something logged past the room's `seq` is normally being applied by
   * its writer: this waits for that like a writer that lost a race (`catchUp`), so that only a
   * writer that is gone has its entries applied by someone else.
   */
  const settle = async (roomId: string): Promise<number | null> => {
    const applied = await appliedHead(roomId);
    if (applied === null) return null;
    if (!(await readEntry(roomId, applied + 1))) return applied;
    return catchUp(roomId, applied + 1);
  };

  /**
   * Fairness between processes. A writer that lost a race claims the room's next turn; a writer
   * that has just committed looks for a claim by another and, while there is one, waits (at most
   * CLAIM_WAIT_MS, then it removes the claim as stale) before it commits again. So a writer with
   * a steady backlog cannot keep winning: a loser gets in within one batch of each other writer.
   */
  const claimTurn = (roomId: string) =>
    ignoringDuplicate(claims.insertOne({ _id: roomId, writer: writerId }));
  const releaseTurn = (roomId: string) => claims.deleteOne({ _id: roomId, writer: writerId });
  const yieldTurn = async (roomId: string): Promise<void> => {
    const deadline = Date.now() + CLAIM_WAIT_MS;
    for (let pause = 1; ; pause = Math.min(pause * 2, MAX_POLL_PAUSE_MS)) {
      const claim = await claims.findOne({ _id: roomId });
      if (!claim || claim.writer === writerId) return;
      if (Date.now() >= deadline) {
        await claims.deleteOne({ _id: roomId, writer: claim.writer });
        return;
      }
      await sleep(pause);
    }
  };

  /**
   * One batch of the room's queue: decides each write from the state at the head, logs the
   * events in one ordered insert at head + 1…, applies them in one bulk write per collection,
   * tells the writers (in log order), and advances the room's `seq`.
   *
   * Losing the race for head + 1 to another process: the entries inserted before the taken seq
   * stand (each was decided from exactly the log before it); the rest claim the next turn, wait
   * for the winner to apply (`catchUp`: reads of the room, bounded), and are decided again at
   * the new head. Nothing reads the log's tail: a race costs a few reads of the room document.
   */
  const commitBatch = async (roomId: string, writes: RoomWrite[]): Promise<void> => {
    let head = heads.get(roomId) ?? (await appliedHead(roomId));
    if (head === null) throw new RoomNotFoundError(roomId);
    let state = await RoomState.read(
      c,
      writes.flatMap((write) => write.reads),
    );
    /** Our entries logged so far, oldest first: what we apply. */
    const logged: LoggedEntry[] = [];
    /** How to tell each settled write its outcome, in log order. */
    const replies: (() => void)[] = [];
    let claimed = false;
    try {
      for (let pending = writes, round = 1; ; round++) {
        const draft = state.clone();
        const planned: { write: RoomWrite; entry: LoggedEntry | null; reply: () => void }[] = [];
        let seq = head;
        for (const write of pending) {
          const decision = write.decide(draft);
          if ('answer' in decision) {
            planned.push({ write, entry: null, reply: decision.answer });
            continue;
          }
          const entry: LoggedEntry = { seq: ++seq, event: decision.event };
          draft.fold(roomId, entry);
          planned.push({ write, entry, reply: () => decision.committed(entry) });
        }
        const entries = planned.flatMap(({ entry }) => (entry ? [entry] : []));
        const inserted = entries.length === 0 ? 0 : await insertEntries(roomId, entries);
        const lost = entries[inserted];
        const cut = lost ? planned.findIndex(({ entry }) => entry === lost) : planned.length;
        for (const { entry, reply } of planned.slice(0, cut)) {
          if (entry) logged.push(entry);
          replies.push(reply);
        }
        head += inserted;
        pending = planned.slice(cut).map(({ write }) => write);
        if (pending.length === 0) break;
        if (round >= MAX_COMMIT_ROUNDS) {
          throw new Error(`room ${roomId}: gave up after losing ${round} races to other writers`);
        }
        const claiming = claimed ? null : claimTurn(roomId);
        claimed = true;
        [head] = await Promise.all([catchUp(roomId, head + 1), claiming]);
        state = await RoomState.read(
          c,
          pending.flatMap((write) => write.reads),
        );
      }
      if (logged.length > 0) await apply(roomId, logged);
    } finally {
      // A claim left behind costs the other writers one CLAIM_WAIT_MS, then they remove it.
      if (claimed) await releaseTurn(roomId).catch(() => {});
    }
    heads.set(roomId, head);
    if (logged.length === 0) {
      for (const reply of replies) reply();
      return;
    }
    const yielding = yieldTurn(roomId);
    // Advanced before anyone hears of the entries: what a reader learns of is within the room's `seq`.
    await advance(roomId, head);
    for (const reply of replies) reply();
    await yielding;
  };

  const enqueue = groupCommit<RoomWrite>(
    async (roomId, writes) => {
      try {
        await commitBatch(roomId, writes);
      } catch (error) {
        // Whatever went wrong, the next batch starts again from the room's `seq`.
        heads.delete(roomId);
        throw error;
      }
    },
    { maxBatch: MAX_BATCH },
  );

  /** Queues a write in its room; settles with what `write` hands its `resolve` or `reject`. */
  const submit = <T>(
    roomId: string,
    write: (
      resolve: (value: T) => void,
      reject: (error: unknown) => void,
    ) => Omit<RoomWrite, 'fail'>,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) =>
      enqueue(roomId, { ...write(resolve, reject), fail: reject }),
    );

  /** Queues an edit, removal, pin or answer, decided from the message as it is at its turn. */
  const change = async (
    messageId: string,
    requested: MessageChange,
  ): Promise<ChangeOutcome | null> => {
    const target = await messages.findOne({ _id: messageId }, { projection: { roomId: 1 } });
    if (!target) return null;
    return submit<ChangeOutcome | null>(target.roomId, (resolve, reject) => ({
      reads: [{ messageId }],
      decide(state) {
        const doc = state.message(messageId);
        if (!doc) return { answer: () => resolve(null) };
        const before = toMessage(doc);
        let decided: DecidedChange | null;
        try {
          decided = decideChange(before, requested);
        } catch (error) {
          return { answer: () => reject(error) };
        }
        if (!decided) return { answer: () => resolve({ message: before, entry: null }) };
        const { event, after } = decided;
        return { event, committed: (entry) => resolve({ message: after, entry }) };
      },
    }));
  };

  /** Whether any part of `doc` was set by an entry after `head`. */
  const changedAfter = (doc: MessageDoc, head: number) =>
    (['counts', 'body', 'pin', 'answer'] as const).some((kind) => seqOf(doc, kind) > head);

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
      const { clientMessageId } = message;
      const key =
        clientMessageId === null
          ? null
          : sendKey(message.roomId, message.author.id, clientMessageId);
      return submit<LoggedEntry>(message.roomId, (resolve, reject) => ({
        reads: key === null ? [] : [{ sendKey: key }],
        decide(state) {
          const original = key === null ? null : state.sent(key);
          if (original) {
            return { answer: () => reject(new DuplicateMessageError(toMessage(original))) };
          }
          return { event: { type: 'message', message }, committed: resolve };
        },
      }));
    },

    async vote(messageId, userId, value): Promise<VoteOutcome | null> {
      const target = await messages.findOne({ _id: messageId }, { projection: { roomId: 1 } });
      if (!target) return null;
      const { roomId } = target;
      const next = storedVote(value);
      return submit<VoteOutcome | null>(roomId, (resolve, reject) => ({
        reads: [{ messageId, voterId: userId }],
        decide(state) {
          const counts = state.message(messageId);
          if (!counts) return { answer: () => resolve(null) };
          // Votes on a removed message are frozen.
          if (counts.removed) {
            return { answer: () => reject(new MessageRemovedError(messageId)) };
          }
          const previous = state.vote(messageId, userId);
          if (previous === next) {
            const { up, down } = counts;
            return { answer: () => resolve({ roomId, up, down, entry: null }) };
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
            committed: (entry) => resolve({ roomId, up: event.up, down: event.down, entry }),
          };
        },
      }));
    },

    async snapshot(roomId, limit, viewerId): Promise<RoomSnapshot> {
      for (let attempt = 1; ; attempt++) {
        const head = await settle(roomId);
        if (head === null) return { head: 0, messages: [], hasMore: false, pinned: [] };
        const [docs, pinnedDocs] = await Promise.all([
          newestFirst(roomId, undefined, limit, head),
          messages
            .find({ roomId, pinned: true })
            .sort({ pinSeq: -1 })
            .limit(LIMITS.pinnedMax)
            .toArray(),
        ]);
        const page = docs.slice(0, limit);
        const [{ views, votes: mine }, pinned] = await Promise.all([
          withMyVotes(page, viewerId),
          withMyVotes(pinnedDocs, viewerId),
        ]);
        // A write committed while we read may already show in a message or a vote: then what
        // we read is newer than `head`. Read again (rarely needed); if writes keep winning, the
        // newer state is still safe, as the events after `head` carry absolute values.
        const newer =
          [...page, ...pinnedDocs].some((doc) => changedAfter(doc, head)) ||
          [...mine, ...pinned.votes].some((vote) => vote.seq > head);
        if (!newer || attempt >= MAX_SNAPSHOT_ATTEMPTS) {
          return {
            head,
            messages: views.reverse(),
            hasMore: docs.length > limit,
            pinned: pinned.views,
          };
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

    async get(messageId) {
      const doc = await messages.findOne({ _id: messageId });
      return doc && toMessage(doc);
    },

    edit(messageId, body, editedAt) {
      return change(messageId, { type: 'edit', body, editedAt });
    },

    remove(messageId, removedAt, by) {
      return change(messageId, { type: 'remove', removedAt, by });
    },

    pin(messageId, pinned) {
      return change(messageId, { type: 'pin', pinned });
    },

    answer(messageId, answered) {
      return change(messageId, { type: 'answer', answered });
    },

    async markRead(userId, roomId, seq) {
      // Never past the head: a position beyond it would hide the room's next messages.
      const head = await appliedHead(roomId);
      if (head === null) throw new RoomNotFoundError(roomId);
      await ignoringDuplicate(
        readMarks.updateOne(
          { _id: readMarkKey(userId, roomId) },
          { $max: { seq: Math.min(seq, head) }, $setOnInsert: { userId, roomId } },
          { upsert: true },
        ),
      );
    },

    async unread(userId, roomIds, max) {
      const marks = await Promise.all(
        roomIds.map((roomId) => readMarks.findOne({ _id: readMarkKey(userId, roomId) })),
      );
      const readUpTo = new Map(marks.flatMap((mark) => (mark ? [[mark.roomId, mark.seq]] : [])));
      const counts = await Promise.all(
        roomIds.map(async (roomId): Promise<[string, number]> => {
          const unreadDocs = await messages
            .find(
              {
                roomId,
                seq: { $gt: readUpTo.get(roomId) ?? 0 },
                removed: { $ne: true },
                'author.id': { $ne: userId },
              },
              { projection: { _id: 1 } },
            )
            .limit(max)
            .toArray();
          return [roomId, unreadDocs.length];
        }),
      );
      return new Map(counts);
    },
  };
}

const readMarkKey = (userId: string, roomId: string) => `${userId}/${roomId}`;

/** The message a document holds; messages stored before edits and pins existed have none. */
function toMessage(doc: MessageDoc): Message {
  return {
    id: doc._id,
    roomId: doc.roomId,
    author: { id: doc.author.id, username: doc.author.username },
    body: doc.body,
    createdAt: doc.createdAt,
    up: doc.up,
    down: doc.down,
    editedAt: doc.editedAt ?? null,
    removed: doc.removed ?? false,
    pinned: doc.pinned ?? false,
    answered: doc.answered ?? false,
    clientMessageId: doc.clientMessageId ?? null,
  };
}

function toMessageView(doc: MessageDoc, myVote: StoredVote): MessageView {
  return { ...toMessage(doc), myVote: myVote === 1 ? 'up' : myVote === -1 ? 'down' : null };
}
