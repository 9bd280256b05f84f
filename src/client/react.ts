/**
 * `chathub-client/react`: a ChatHub room in a React component, on the same room follower as
 * everything else (snapshot, live events, votes, older pages, resuming after any outage).
 */
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { VoteValue } from '../contract/models.js';
import { describeError } from './errors.js';
import {
  type FollowedRoom,
  followRoom,
  NOT_FOLLOWING,
  type RoomClient,
  type RoomFollower,
} from './roomFollower.js';

export interface RoomView extends FollowedRoom {
  /** Why the last send, vote or page failed, in words; null when nothing failed since. */
  error: string | null;
  dismissError(): void;
  /** Whether a message is on its way. */
  sending: boolean;
  /** Sends a message; resolves false (with `error` set) when it was refused. */
  send(body: string): Promise<boolean>;
  /** Casts or (with `none`) takes back the reader's vote, shown at once. */
  vote(messageId: string, vote: VoteValue): Promise<void>;
  /** Adds the page of messages before the oldest one shown. */
  loadOlder(): Promise<void>;
  /** Sends a failed pending message again (same client id); false (with `error` set) if refused. */
  retry(clientMessageId: string): Promise<boolean>;
  /** Forgets a failed pending message. */
  discard(clientMessageId: string): void;
  /** Edits one of the reader's messages; false (with `error` set) if refused. */
  edit(messageId: string, body: string): Promise<boolean>;
  /** Removes a message (the reader's, or as owner anyone's); false (with `error` set) if refused. */
  remove(messageId: string): Promise<boolean>;
  /** Pins or unpins (owner only); false (with `error` set) if refused. */
  pin(messageId: string, pinned: boolean): Promise<boolean>;
  /** Marks answered or not (owner only); false (with `error` set) if refused. */
  markAnswered(messageId: string, answered: boolean): Promise<boolean>;
  /**
   * Call on every keystroke in the composer: sends "typing" at most once per interval (the
   * follower's `typing()`; `typing` itself is who else is typing).
   */
  sendTyping(): void;
  /** Call while the reader sees the end of the room: marks it read (coalesced). */
  markRead(): void;
}

const noFollower = () => () => {};
const notFollowing = () => NOT_FOLLOWING;

/**
 * Follows `roomId` as `readerId` while the component is mounted (or until either changes).
 * `client` is any tRPC client with ChatHub's chat procedures: a `connect()` hub, or a web app's
 * own client typed by AppRouter.
 */
export function useRoom(client: RoomClient, roomId: string, readerId: string): RoomView {
  const [follower, setFollower] = useState<RoomFollower | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(0);

  useEffect(() => {
    const next = followRoom(client, { roomId, readerId });
    setFollower(next);
    setError(null);
    return () => next.close();
  }, [client, roomId, readerId]);

  const state = useSyncExternalStore(
    follower?.subscribe ?? noFollower,
    follower?.getState ?? notFollowing,
  );

  /** Runs an action of the follower, turning a failure into words. */
  const attempt = useCallback(
    async (action: (current: RoomFollower) => Promise<unknown>): Promise<boolean> => {
      if (!follower) return false;
      try {
        await action(follower);
        // What went wrong before is no longer the news once something goes through.
        setError(null);
        return true;
      } catch (failure) {
        setError(describeError(failure).message);
        return false;
      }
    },
    [follower],
  );

  const send = useCallback(
    async (body: string) => {
      setSending((count) => count + 1);
      try {
        return await attempt((current) => current.send(body));
      } finally {
        setSending((count) => count - 1);
      }
    },
    [attempt],
  );
  const vote = useCallback(
    async (messageId: string, choice: VoteValue) => {
      await attempt((current) => current.vote(messageId, choice));
    },
    [attempt],
  );
  const loadOlder = useCallback(async () => {
    await attempt((current) => current.loadOlder());
  }, [attempt]);
  const dismissError = useCallback(() => setError(null), []);
  const retry = useCallback(
    (clientMessageId: string) => attempt((current) => current.retry(clientMessageId)),
    [attempt],
  );
  const discard = useCallback(
    (clientMessageId: string) => follower?.discard(clientMessageId),
    [follower],
  );
  const edit = useCallback(
    (messageId: string, body: string) => attempt((current) => current.edit(messageId, body)),
    [attempt],
  );
  const remove = useCallback(
    (messageId: string) => attempt((current) => current.remove(messageId)),
    [attempt],
  );
  const pin = useCallback(
    (messageId: string, pinned: boolean) => attempt((current) => current.pin(messageId, pinned)),
    [attempt],
  );
  const markAnswered = useCallback(
    (messageId: string, answered: boolean) =>
      attempt((current) => current.markAnswered(messageId, answered)),
    [attempt],
  );
  const sendTyping = useCallback(() => follower?.typing(), [follower]);
  const markRead = useCallback(() => follower?.markRead(), [follower]);

  return {
    ...state,
    error,
    dismissError,
    sending: sending > 0,
    send,
    vote,
    loadOlder,
    retry,
    discard,
    edit,
    remove,
    pin,
    markAnswered,
    sendTyping,
    markRead,
  };
}
