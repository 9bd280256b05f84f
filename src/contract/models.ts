/**
 * Shapes the server returns; plain JSON (no transformer), times in epoch milliseconds. Nothing here
 * depends on zod, so the typed client package ships these declarations without it.
 */

export const VOTE_VALUES = ['up', 'down', 'none'] as const;
/** A vote as cast: `none` takes the voter's vote back. */
export type VoteValue = (typeof VOTE_VALUES)[number];

export interface PublicUser {
  id: string;
  username: string;
}

export interface Room {
  id: string;
  name: string;
  createdAt: number;
}

export interface RoomWithOnline extends Room {
  online: number;
}

/** One page of the room directory; pass `nextCursor` back for the next one (null: no more). */
export interface RoomPage {
  rooms: RoomWithOnline[];
  nextCursor: string | null;
}

export interface Message {
  id: string;
  roomId: string;
  author: PublicUser;
  body: string;
  createdAt: number;
  up: number;
  down: number;
}

/** A message as one reader sees it: with that reader's own vote. */
export interface MessageView extends Message {
  myVote: Exclude<VoteValue, 'none'> | null;
}

/** A message's totals right after a vote, with the voter's own vote. */
export interface VoteResult {
  messageId: string;
  up: number;
  down: number;
  myVote: VoteValue;
}

export interface HistoryPage {
  messages: MessageView[];
  hasMore: boolean;
}

export interface Session {
  token: string;
  expiresAt: number;
  user: PublicUser;
}

export interface SignInResult extends Session {
  chatUrl: string;
}
