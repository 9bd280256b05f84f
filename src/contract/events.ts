import type { Message, MessageView, VoteValue } from './models.js';

/**
 * Everything `chat.events` delivers. Each arrives wrapped by tRPC's `tracked()` as
 * `{ id, data }`, where `id` is the room's event sequence number: pass the last one back as
 * `lastEventId` to resume without gaps or duplicates.
 */
export type ChatEvent = SnapshotEvent | MessageEvent | VoteEvent | PresenceEvent;

/** Replaces the reader's state: the latest messages, each with the reader's own vote. */
export interface SnapshotEvent {
  type: 'snapshot';
  messages: MessageView[];
  hasMore: boolean;
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

/** Distinct users currently subscribed to the room. */
export interface PresenceEvent {
  type: 'presence';
  online: number;
}

/** Events kept in the room's log, replayable by sequence number. */
export type LoggedEvent = MessageEvent | VoteEvent;
