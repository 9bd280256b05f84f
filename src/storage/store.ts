import type { LoggedEvent } from '../contract/events.js';
import type { Message, MessageView, PublicUser, Room } from '../contract/models.js';
import type { VoteValue } from '../contract/schemas.js';

/**
 * Persistence port. Every adapter (one file each) must pass `test/contract/store.contract.ts`.
 * Each room keeps an ordered event log: every accepted message and vote change gets the room's
 * next sequence number, which clients use to resume a subscription without gaps or duplicates.
 */
export interface Store {
  readonly users: UserRepository;
  readonly rooms: RoomRepository;
  readonly messages: MessageRepository;
  /** Resolves when the backing database answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
  createdAt: number;
}

export interface UserRepository {
  /** Throws {@link DuplicateKeyError} when the username is taken, ignoring case. */
  create(user: UserRecord): Promise<void>;
  findByUsername(username: string): Promise<UserRecord | null>;
}

/** A room as stored: `owner` is who created it; null for rooms the server made (`general`). */
export type RoomRecord = Room;

/** A room to create: without an owner (or with null) it belongs to no one. */
export interface NewRoom extends Omit<Room, 'owner'> {
  owner?: PublicUser | null;
}

/**
 * Rooms are listed in the order of their normalized name key (`roomNameKey`, unique per store,
 * compared by code point), so a page ends at a key and the next one starts after it.
 */
export interface RoomListRequest {
  /** The key of the last room already seen; the first page without it. */
  afterKey?: string;
  limit: number;
  /** Only rooms whose name key starts with this text's key. */
  namePrefix?: string;
}

export interface RoomListPage {
  rooms: RoomRecord[];
  /** The key of the page's last room when more rooms follow; null on the last page. */
  nextKey: string | null;
}

export interface RoomRepository {
  /** Throws {@link DuplicateKeyError} when the id or the name (by its normalized key) is taken. */
  create(room: NewRoom): Promise<void>;
  /** Creates the room unless it exists; safe to call from every process at start-up. */
  ensure(room: NewRoom): Promise<void>;
  get(id: string): Promise<RoomRecord | null>;
  list(request: RoomListRequest): Promise<RoomListPage>;
  /** How many rooms the user created. */
  countOwnedBy(userId: string): Promise<number>;
}

export interface LoggedEntry {
  seq: number;
  event: LoggedEvent;
}

export interface VoteOutcome {
  roomId: string;
  up: number;
  down: number;
  /** The log entry of the change, or null when the vote was already what was asked. */
  entry: LoggedEntry | null;
}

/** What a change to a message (edit, removal, pin, answer) did. */
export interface ChangeOutcome {
  /** The message after the change, or as it already was when the change was a no-op. */
  message: Message;
  /** The change's log entry; null when the message already was what was asked. */
  entry: LoggedEntry | null;
}

export interface RoomSnapshot {
  /** Sequence number of the last event the snapshot reflects. */
  head: number;
  /** Oldest first. */
  messages: MessageView[];
  hasMore: boolean;
  /** The room's pinned messages whatever their age, newest pin first, at most `LIMITS.pinnedMax`. */
  pinned: MessageView[];
}

/**
 * A room's writes (appends, votes, edits, removals, pins, answers) are committed in batches
 * (group commit): what queues while one batch is being stored goes into the next, as if each
 * write came one after another, each decided from the room's state right before its own entry.
 * Appends made through one repository are logged in the order they were made; a write that fails
 * fails alone.
 */
export interface MessageRepository {
  /**
   * Stores the message and its log entry together; returns the entry. Throws
   * {@link RoomNotFoundError} when the room does not exist, and {@link DuplicateMessageError}
   * when its author already posted a message with its `clientMessageId` in the room (a retry:
   * nothing is logged).
   */
  append(message: Message): Promise<LoggedEntry>;
  /**
   * Sets `userId`'s vote on a message; null when the message does not exist. Throws
   * {@link MessageRemovedError} for a removed message (its votes are frozen).
   */
  vote(messageId: string, userId: string, vote: VoteValue): Promise<VoteOutcome | null>;
  /** The message as it is now; null when there is none. */
  get(messageId: string): Promise<Message | null>;
  /**
   * Replaces the body. Null when the message does not exist; throws
   * {@link MessageRemovedError} for a removed one. The same body again logs nothing.
   */
  edit(messageId: string, body: string, editedAt: number): Promise<ChangeOutcome | null>;
  /**
   * Makes the message a tombstone: body gone from the message, from its log entries (its own,
   * its edits', its pins') and so from every later read, votes frozen, unpinned. All of it is
   * done before this resolves. Null when the message does not exist; a removed one stays as it
   * is (nothing logged).
   */
  remove(
    messageId: string,
    removedAt: number,
    by: 'author' | 'owner',
  ): Promise<ChangeOutcome | null>;
  /** Pins or unpins; null when there is no such message; throws {@link MessageRemovedError}. */
  pin(messageId: string, pinned: boolean): Promise<ChangeOutcome | null>;
  /** Marks answered or not; null when there is no such message; throws {@link MessageRemovedError}. */
  answer(messageId: string, answered: boolean): Promise<ChangeOutcome | null>;
  /**
   * Records that `userId` has read the room up to `seq` (at most its head); a read position
   * never moves back. Throws {@link RoomNotFoundError} when the room does not exist.
   */
  markRead(userId: string, roomId: string, seq: number): Promise<void>;
  /**
   * Per room, the messages `userId` has not read: after their read position, not removed, not
   * their own; counted up to `max`.
   */
  unread(userId: string, roomIds: readonly string[], max: number): Promise<Map<string, number>>;
  /** The latest messages, consistent with `head`: no message newer than it, none missing. */
  snapshot(roomId: string, limit: number, viewerId: string): Promise<RoomSnapshot>;
  /** Messages older than `before` (a message id), oldest first. */
  page(
    roomId: string,
    before: string | undefined,
    limit: number,
    viewerId: string,
  ): Promise<{ messages: MessageView[]; hasMore: boolean }>;
  /** Sequence number of the room's latest log entry (0 before the first). */
  head(roomId: string): Promise<number>;
  /** Log entries after `seq`, oldest first, at most `limit`. */
  eventsAfter(roomId: string, seq: number, limit: number): Promise<LoggedEntry[]>;
}

export class RoomNotFoundError extends Error {
  constructor(readonly roomId: string) {
    super(`room ${roomId} does not exist`);
    this.name = 'RoomNotFoundError';
  }
}

export class DuplicateKeyError extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
    this.name = 'DuplicateKeyError';
  }
}

/** A send retried with the same `clientMessageId`: `original` is the message the first one posted. */
export class DuplicateMessageError extends DuplicateKeyError {
  constructor(readonly original: Message) {
    super(`message ${original.clientMessageId} of ${original.author.id}`);
    this.name = 'DuplicateMessageError';
  }
}

/** A change asked of a removed message, which only a removal leaves as it is. */
export class MessageRemovedError extends Error {
  constructor(readonly messageId: string) {
    super(`message ${messageId} was removed`);
    this.name = 'MessageRemovedError';
  }
}
