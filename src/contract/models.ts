/** Shapes the server returns; plain JSON (no transformer), times in epoch milliseconds. */
import type { VoteValue } from './schemas.js';

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
