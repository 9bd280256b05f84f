import type { Message, MessageView, PublicUser, VoteValue } from './models.js';

/**
 * Everything `chat.events` delivers. Each arrives wrapped by tRPC's `tracked()` as
 * `{ id, data }`, where `id` is the room's event sequence number: pass the last one back as
 * `lastEventId` to resume without gaps or duplicates. Fold them with `applyChatEvent`.
 */
export type ChatEvent = SnapshotEvent | LoggedEvent | PresenceEvent | TypingEvent;

/**
 * Replaces the reader's messages: the latest ones, each with the reader's own vote, and the
 * room's pinned messages whatever their age (newest pin first, at most `LIMITS.pinnedMax`).
 */
export interface SnapshotEvent {
  type: 'snapshot';
  messages: MessageView[];
  hasMore: boolean;
  pinned: MessageView[];
}

export interface MessageEvent {
  type: 'message';
  message: Message;
}

/** New totals for a message after `voterId` changed their vote to `vote`. */
export interface VoteEvent {
  type: 'vote';
  messageId: string;
  up: number;
  down: number;
  voterId: string;
  vote: VoteValue;
}

/** The author changed the message's body. */
export interface EditEvent {
  type: 'edit';
  messageId: string;
  /** The new body; `''` in the log once the message is removed. */
  body: string;
  editedAt: number;
}

/**
 * The message became a tombstone: its body is gone for good, it is no longer pinned, and its
 * votes are frozen.
 */
export interface RemoveEvent {
  type: 'remove';
  messageId: string;
  removedAt: number;
  /** Whether the author took it down or the room's owner did. */
  by: 'author' | 'owner';
}

/** The room's owner pinned or unpinned a message. */
export interface PinEvent {
  type: 'pin';
  messageId: string;
  pinned: boolean;
  /**
   * The message as it was when pinned, so readers that do not hold it (it is older than what
   * they loaded) can still show it pinned; null when unpinned.
   */
  message: Message | null;
}

/** The room's owner marked a message answered, or took the mark back. */
export interface AnswerEvent {
  type: 'answer';
  messageId: string;
  answered: boolean;
}

/** Distinct users currently subscribed to the room, on every chat server. Never logged. */
export interface PresenceEvent {
  type: 'presence';
  /** How many. */
  online: number;
  /** Who: at most `LIMITS.presenceNamesMax` of them, in name order; `online` is the total. */
  users: PublicUser[];
}

/**
 * Who is typing in the room right now (everyone: a reader leaves itself out). Never logged nor
 * replayed; each person drops out `LIMITS.typingTtlMs` after their last `chat.typing`, or as
 * soon as their message arrives.
 */
export interface TypingEvent {
  type: 'typing';
  users: PublicUser[];
}

/** Events kept in the room's log, replayable by sequence number. */
export type LoggedEvent =
  | MessageEvent
  | VoteEvent
  | EditEvent
  | RemoveEvent
  | PinEvent
  | AnswerEvent;
