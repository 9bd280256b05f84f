import type { TRPCClient } from '@trpc/client';
import type { ChatRouter } from '../appRouter.js';
import { LIMITS } from '../contract/limits.js';
import type {
  HistoryPage,
  Message,
  MessageView,
  RemoveResult,
  VoteResult,
  VoteValue,
} from '../contract/models.js';
import { applyChatEvent, EMPTY_ROOM, type RoomState } from '../contract/roomState.js';
import { type Backoff, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { describeError, isRetryable } from './errors.js';
import { type PendingMessage, PendingSends } from './pendingSends.js';

/** Where a follower's feed stands, in words a person can be shown. */
export type RoomStatus =
  /** The first subscription is on its way. */
  | { state: 'connecting' }
  /** Events arrive as they happen. */
  | { state: 'live' }
  /** The feed was lost for a reason retrying can fix; it resumes from the last event held. */
  | { state: 'reconnecting'; reason: string }
  /** The feed stopped for good (no such room, token refused): `reason` says why. */
  | { state: 'ended'; code: string | null; reason: string };

/** A room as one reader follows it. */
export interface FollowedRoom extends RoomState {
  status: RoomStatus;
  /** Whether the room's messages have arrived at least once. */
  loaded: boolean;
  /** The reader's messages on their way, oldest first; each leaves once it arrives in the feed. */
  pending: PendingMessage[];
}

/** What a follower needs of a client: the chat procedures (any client typed by ChatRouter or AppRouter). */
export type RoomClient = Pick<TRPCClient<ChatRouter>, 'chat'>;

export interface FollowOptions {
  roomId: string;
  /** The signed-in user: whose votes `myVote` shows. */
  readerId: string;
  backoff?: Backoff;
  /** Source of the backoff's jitter (tests pass a fixed one). */
  random?: () => number;
}

export interface RoomFollower {
  readonly roomId: string;
  /** The current state; a new object after every change, so it can be compared by reference. */
  getState(): FollowedRoom;
  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (state: FollowedRoom) => void): () => void;
  /**
   * Sends a message. It is listed in `pending` until the feed delivers it (in the room's order);
   * an attempt that gets no answer is made again with the same client id, so it is posted once.
   * Resolves with the stored message; rejects when the server refuses it (it stays listed as
   * failed, for `retry` or `discard`).
   */
  send(body: string): Promise<Message>;
  /** Sends a failed pending message again, with the same client id. */
  retry(clientMessageId: string): Promise<Message>;
  /** Forgets a failed pending message. */
  discard(clientMessageId: string): void;
  /** Casts (or with `none` takes back) the reader's vote, showing it at once and settling to the server's. */
  vote(messageId: string, vote: VoteValue): Promise<VoteResult>;
  /** Replaces the body of one of the reader's messages; the feed shows it edited. */
  edit(messageId: string, body: string): Promise<Message>;
  /** Removes one of the reader's messages, or (as the room's owner) anyone's. */
  remove(messageId: string): Promise<RemoveResult>;
  /** Pins or unpins a message (the room's owner only). */
  pin(messageId: string, pinned: boolean): Promise<Message>;
  /** Marks a message answered or not (the room's owner only). */
  markAnswered(messageId: string, answered: boolean): Promise<Message>;
  /**
   * Tells the room the reader is typing. Call it on every keystroke: it sends at most one signal
   * per `LIMITS.typingIntervalMs`, and a lost one does not matter.
   */
  typing(): void;
  /**
   * Marks the room read up to the latest event held (call it while the reader is at the end);
   * calls are coalesced to at most one request per second, and a failed one is tried again with
   * the next call.
   */
  markRead(): void;
  /** Adds the page of messages before the oldest one held. */
  loadOlder(): Promise<void>;
  /** Stops following: unsubscribes and cancels any pending retry. */
  close(): void;
}

export const NOT_FOLLOWING: FollowedRoom = {
  ...EMPTY_ROOM,
  status: { state: 'connecting' },
  loaded: false,
  pending: [],
};

/** Read positions are sent at most this often. */
const MARK_READ_INTERVAL_MS = 1_000;

/**
 * Follows one room's `chat.events`: folds every event into the state with the shared reducer,
 * and when the feed fails for a reason that may pass (connection lost, server or dependency
 * unavailable, rate limit) subscribes again after a backoff, from the last event it holds, so
 * nothing is missed or doubled. It ends only on an error retrying cannot fix.
 */
export function followRoom(client: RoomClient, options: FollowOptions): RoomFollower {
  const { roomId, readerId } = options;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const listeners = new Set<(state: FollowedRoom) => void>();
  let state = NOT_FOLLOWING;
  let lastEventId: string | null = null;
  let failures = 0;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let feed: { unsubscribe(): void } | null = null;
  /** Bumped for every subscription; callbacks of an older one are ignored. */
  let generation = 0;
  let loadingOlder: Promise<void> | null = null;
  /** Per message, how many vote events have been folded: a vote in flight defers to newer ones. */
  const voteEvents = new Map<string, number>();
  const sends = new PendingSends({
    post: (body, clientMessageId) => client.chat.send.mutate({ roomId, body, clientMessageId }),
    onChange: (pending) => update({ ...state, pending }),
    backoff,
    ...(options.random ? { random: options.random } : {}),
  });
  let lastTyping = Number.NEGATIVE_INFINITY;
  const reads = {
    marked: 0,
    timer: undefined as ReturnType<typeof setTimeout> | undefined,
    last: 0,
  };

  const update = (next: FollowedRoom) => {
    state = next;
    for (const listener of listeners) listener(state);
  };

  /** Tells the server how far the reader has read (up to the last event seen). */
  const sendReadMark = () => {
    reads.timer = undefined;
    if (lastEventId === null) return;
    const upTo = Number(lastEventId);
    if (upTo <= reads.marked) return;
    reads.last = Date.now();
    client.chat.markRead
      .mutate({ roomId, eventId: String(upTo) })
      .then(() => {
        reads.marked = Math.max(reads.marked, upTo);
      })
      // Read positions are a convenience: the next call tries again.
      .catch(() => {});
  };
  const setStatus = (status: RoomStatus) => update({ ...state, status });

  function subscribe() {
    const mine = ++generation;
    const current = () => mine === generation && !closed;
    feed = client.chat.events.subscribe(
      { roomId, lastEventId },
      {
        onData: ({ id, data }) => {
          if (!current()) return;
          lastEventId = id;
          failures = 0;
          if (data.type === 'vote') {
            voteEvents.set(data.messageId, (voteEvents.get(data.messageId) ?? 0) + 1);
          }
          const next = applyChatEvent(state, data, readerId);
          sends.arrived(next.messages);
          update({ ...next, pending: sends.list(), status: { state: 'live' }, loaded: true });
        },
        onConnectionStateChange: (connection) => {
          if (!current() || connection.state !== 'connecting' || !connection.error) return;
          setStatus({ state: 'reconnecting', reason: describeError(connection.error).message });
        },
        onError: (error) => {
          if (current()) retryOrEnd(error);
        },
        onComplete: () => {
          if (current()) retryOrEnd(new Error('The server ended the feed'));
        },
      },
    );
  }

  function retryOrEnd(error: unknown) {
    generation += 1;
    const { code, message } = describeError(error);
    if (!isRetryable(error)) {
      setStatus({ state: 'ended', code, reason: message });
      return;
    }
    setStatus({ state: 'reconnecting', reason: message });
    retryTimer = setTimeout(subscribe, backoffDelay(failures, backoff, options.random));
    failures += 1;
  }

  const findMessage = (messageId: string) => state.messages.find((m) => m.id === messageId);
  const setVote = (messageId: string, votes: Pick<MessageView, 'up' | 'down' | 'myVote'>) =>
    update({
      ...state,
      messages: state.messages.map((m) => (m.id === messageId ? { ...m, ...votes } : m)),
    });

  subscribe();

  return {
    roomId,
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    send: (body) => sends.send(body),
    retry: (clientMessageId) => sends.retry(clientMessageId),
    discard: (clientMessageId) => sends.discard(clientMessageId),
    edit: (messageId, body) => client.chat.edit.mutate({ messageId, body }),
    remove: (messageId) => client.chat.remove.mutate({ messageId }),
    pin: (messageId, pinned) => client.chat.pin.mutate({ messageId, pinned }),
    markAnswered: (messageId, answered) => client.chat.markAnswered.mutate({ messageId, answered }),

    typing() {
      const now = Date.now();
      if (now - lastTyping < LIMITS.typingIntervalMs) return;
      lastTyping = now;
      // Ephemeral: a signal that does not arrive is simply not shown.
      client.chat.typing.mutate({ roomId }).catch(() => {});
    },

    markRead() {
      if (reads.timer !== undefined || lastEventId === null) return;
      const wait = Math.max(0, reads.last + MARK_READ_INTERVAL_MS - Date.now());
      reads.timer = setTimeout(sendReadMark, wait);
    },

    async vote(messageId, vote) {
      const before = findMessage(messageId);
      const seen = voteEvents.get(messageId) ?? 0;
      // Once the feed has carried a newer vote on this message, it holds the truth.
      const untouched = () => (voteEvents.get(messageId) ?? 0) === seen;
      if (before) setVote(messageId, withVote(before, vote));
      try {
        const settled = await client.chat.vote.mutate({ messageId, vote });
        if (untouched()) {
          const { up, down, myVote } = settled;
          setVote(messageId, { up, down, myVote: chosen(myVote) });
        }
        return settled;
      } catch (error) {
        // Take the vote back; counts the feed carried meanwhile are newer than the ones before.
        const current = findMessage(messageId);
        if (before && current) {
          const { up, down } = untouched() ? before : current;
          setVote(messageId, { up, down, myVote: before.myVote });
        }
        throw error;
      }
    },

    loadOlder() {
      const oldest = state.messages[0];
      if (loadingOlder || !state.hasMore || !oldest) return loadingOlder ?? Promise.resolve();
      loadingOlder = client.chat.history
        .query({ roomId, before: oldest.id, limit: LIMITS.snapshotSize })
        .then((page) => {
          // A fresh snapshot may have replaced what the page was meant to go before.
          if (state.messages[0]?.id === oldest.id) update({ ...state, ...withOlder(state, page) });
        })
        .finally(() => {
          loadingOlder = null;
        });
      return loadingOlder;
    },

    close() {
      closed = true;
      clearTimeout(retryTimer);
      // A reader who leaves within the interval has still read what they saw.
      if (reads.timer !== undefined) {
        clearTimeout(reads.timer);
        sendReadMark();
      }
      sends.close();
      feed?.unsubscribe();
      listeners.clear();
    },
  };
}

function chosen(vote: VoteValue): MessageView['myVote'] {
  return vote === 'none' ? null : vote;
}

/** The counts a message will have once `vote` replaces the reader's current vote. */
export function withVote(
  message: MessageView,
  vote: VoteValue,
): Pick<MessageView, 'up' | 'down' | 'myVote'> {
  const before = message.myVote;
  const after = chosen(vote);
  return {
    up: message.up - Number(before === 'up') + Number(after === 'up'),
    down: message.down - Number(before === 'down') + Number(after === 'down'),
    myVote: after,
  };
}

/** An older page from `chat.history` put before what is held, without repeating any message. */
function withOlder(state: RoomState, page: HistoryPage): Pick<RoomState, 'messages' | 'hasMore'> {
  const held = new Set(state.messages.map((m) => m.id));
  const older = page.messages.filter((m) => !held.has(m.id));
  return { messages: [...older, ...state.messages], hasMore: page.hasMore };
}
