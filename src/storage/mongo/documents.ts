import type { LoggedEvent } from '../../contract/events.js';
import type { Message, MessageView, PublicUser } from '../../contract/models.js';
import type { VoteValue } from '../../contract/schemas.js';

/**
 * The documents the MongoDB adapter stores, their keys, and the models they hold. Every document
 * of a room-scoped collection names its room: in a `roomId` field and, where the document has a
 * natural key, at the start of its `_id` (`<roomId>/…`). A lookup by such a key is then both the
 * one filter FerretDB 1.24 hands to its backend and, on a cluster sharded by `_id`, a read of the
 * one shard that holds the room's range (see collections.ts for the shard keys).
 */

/** Vote values as stored: 0 is a withdrawn vote, kept so its `seq` still guards against replays. */
export type StoredVote = 1 | -1 | 0;

export interface UserDoc {
  _id: string;
  username: string;
  /** `username` lowercased: the unique key (FerretDB has no collations). */
  usernameKey: string;
  passwordHash: string;
  createdAt: number;
}

export interface RoomDoc {
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

export interface MessageDoc {
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
export interface SendDoc {
  _id: string;
  /** Set at start-up on sends stored before it was kept. */
  roomId: string;
  messageId: string;
}

/**
 * Which room a message is in, by message id: votes and changes name only the message, and the
 * message documents are placed by room.
 */
export interface MessageRoomDoc {
  /** The message's id. */
  _id: string;
  roomId: string;
}

/** How far a user has read a room. */
export interface ReadMarkDoc {
  /** `${userId}/${roomId}`. */
  _id: string;
  userId: string;
  roomId: string;
  seq: number;
}

export interface VoteDoc {
  /** `voteKey(roomId, messageId, userId)`. */
  _id: string;
  roomId: string;
  messageId: string;
  userId: string;
  value: StoredVote;
  /** Seq of the last event that set `value`. */
  seq: number;
}

export interface EventDoc {
  /**
   * `eventKey(roomId, seq)`: one entry per seq (the key is unique, and the shard key), found by
   * `_id`, and a room's entries are one range of keys in log order.
   */
  _id: string;
  roomId: string;
  seq: number;
  payload: LoggedEvent;
  /** Seq of the last entry the same insert wrote. */
  batchEnd: number;
}

/** A writer's claim on its room's next turn (see turns.ts). */
export interface ClaimDoc {
  /** The room. */
  _id: string;
  writer: string;
}

/** A database step that runs once per database (see migrations.ts). */
export interface MigrationDoc {
  _id: string;
  doneAt: number;
}

/** Digits of the zero-padded seq in an event's key: every seq a client can name (eventIdSchema). */
const EVENT_KEY_DIGITS = 15;
/** The highest seq an event key can hold. */
export const MAX_SEQ = 10 ** EVENT_KEY_DIGITS - 1;

/**
 * A log entry's key: the room, then the seq zero-padded so that key order is log order. Room ids
 * hold no `/`, so one room's keys are one range, which no other room's key falls into.
 */
export function eventKey(roomId: string, seq: number): string {
  return `${roomId}/${String(seq).padStart(EVENT_KEY_DIGITS, '0')}`;
}

/** A message's client id is unique per author and room: a retry is decided in the room's queue. */
export function sendKey(roomId: string, authorId: string, clientMessageId: string): string {
  return `${roomId}/${authorId}/${clientMessageId}`;
}

/** A voter's vote on a message: keyed by the room first, like the log. */
export function voteKey(roomId: string, messageId: string, voterId: string): string {
  return `${roomId}/${messageId}/${voterId}`;
}

export const readMarkKey = (userId: string, roomId: string) => `${userId}/${roomId}`;

export function storedVote(value: VoteValue): StoredVote {
  return value === 'up' ? 1 : value === 'down' ? -1 : 0;
}

/** The message a document holds; messages stored before edits and pins existed have none. */
export function toMessage(doc: MessageDoc): Message {
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

export function toMessageView(doc: MessageDoc, myVote: StoredVote): MessageView {
  return { ...toMessage(doc), myVote: myVote === 1 ? 'up' : myVote === -1 ? 'down' : null };
}
