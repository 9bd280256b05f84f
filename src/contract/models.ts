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
  /**
   * Who looks after the room (removes others' messages, pins, marks answers): the user who created
   * it. `general` has none, unless the server names an admin for it.
   */
  owner: PublicUser | null;
}

export interface RoomWithOnline extends Room {
  /** Distinct users subscribed now; null while presence cannot be read (the list still works). */
  online: number | null;
  /**
   * Messages by others, not removed, after the last one the caller marked read
   * (`chat.markRead`), at most `LIMITS.unreadCountMax` (show "99+" there). Null when the
   * caller is not signed in.
   */
  unread: number | null;
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
  /** When the author last edited the body; null if never. */
  editedAt: number | null;
  /**
   * A tombstone: the message keeps its place but its body is gone (`''`) everywhere, for good,
   * and its votes are frozen.
   */
  removed: boolean;
  /** Pinned by the room's owner: listed first in the room (the snapshot's `pinned`). */
  pinned: boolean;
  /** Marked answered by the room's owner (a question that got its answer). */
  answered: boolean;
  /**
   * The id the author's client gave the send (`chat.send`'s `clientMessageId`), so that a
   * pending message can be matched with its echo; null when the client gave none.
   */
  clientMessageId: string | null;
}

/** A message as it is sent: not edited, removed, pinned or answered, and without a client id. */
export const AS_SENT = {
  editedAt: null,
  removed: false,
  pinned: false,
  answered: false,
  clientMessageId: null,
} as const satisfies Partial<Message>;

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

/** What `chat.remove` answers: the message is a tombstone now (or already was). */
export interface RemoveResult {
  messageId: string;
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
