import type { LoggedEvent } from '../../contract/events.js';
import type { Message, MessageView, PublicUser } from '../../contract/models.js';
import type { VoteValue } from '../../contract/schemas.js';

/** The documents the MongoDB adapter stores, their keys, and the models they hold. */

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
  messageId: string;
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
  messageId: string;
  userId: string;
  value: StoredVote;
  /** Seq of the last event that set `value`. */
  seq: number;
}

export interface EventDoc {
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

/** A writer's claim on its room's next turn (see turns.ts). */
export interface ClaimDoc {
  /** The room. */
  _id: string;
  writer: string;
}

/** Digits of the zero-padded seq in an event's key: every seq a client can name (eventIdSchema). */
const EVENT_KEY_DIGITS = 15;

/** A log entry's key: the room, then the seq zero-padded so that key order is log order. */
export function eventKey(roomId: string, seq: number): string {
  return `${roomId}/${String(seq).padStart(EVENT_KEY_DIGITS, '0')}`;
}

/** A message's client id is unique per author and room: a retry is decided in the room's queue. */
export function sendKey(roomId: string, authorId: string, clientMessageId: string): string {
  return `${roomId}/${authorId}/${clientMessageId}`;
}

export const voteKey = (messageId: string, voterId: string) => `${messageId}/${voterId}`;

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
