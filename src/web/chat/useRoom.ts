import { useCallback, useReducer, useRef, useState } from 'react';
import { describeError } from '../../client/errors.js';
import type { MessageView } from '../../contract/models.js';
import { trpc } from '../api/trpc.js';
import { initialRoom, roomReducer } from './roomReducer.js';
import { nextVote, type Vote, withVote } from './votes.js';

/**
 * Everything the chat screen needs about one room: live state from `chat.events` (which the
 * tRPC client resumes with `lastEventId` after any reconnect), older pages, sending and voting.
 */
export function useRoom(roomId: string, readerId: string) {
  const [state, dispatch] = useReducer(roomReducer, initialRoom);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);
  /** The subscription ended for good (no such room, signed out): nothing more will arrive. */
  const [ended, setEnded] = useState(false);
  const loadingOlder = useRef(false);
  const utils = trpc.useUtils();
  const send = trpc.chat.send.useMutation();
  const vote = trpc.chat.vote.useMutation();

  trpc.chat.events.useSubscription(
    { roomId },
    {
      onStarted: () => setError(null),
      onData: ({ data }) => {
        if (data.type === 'snapshot') setLive(true);
        dispatch({ type: 'event', event: data, readerId });
      },
      onError: (failure) => {
        setEnded(true);
        setError(describeError(failure).message);
      },
    },
  );

  const loadOlder = useCallback(async () => {
    const oldest = state.messages[0];
    if (!state.hasMore || !oldest || loadingOlder.current) return;
    loadingOlder.current = true;
    try {
      const page = await utils.chat.history.fetch({ roomId, before: oldest.id, limit: 50 });
      dispatch({ type: 'older', page });
    } catch (failure) {
      setError(describeError(failure).message);
    } finally {
      loadingOlder.current = false;
    }
  }, [roomId, state.hasMore, state.messages, utils]);

  const sendMessage = useCallback(
    async (body: string): Promise<boolean> => {
      try {
        const message = await send.mutateAsync({ roomId, body });
        dispatch({ type: 'event', event: { type: 'message', message }, readerId });
        setError(null);
        return true;
      } catch (failure) {
        setError(describeError(failure).message);
        return false;
      }
    },
    [roomId, readerId, send],
  );

  const castVote = useCallback(
    async (message: MessageView, clicked: Vote) => {
      const choice = nextVote(message.myVote, clicked);
      dispatch({ type: 'vote', messageId: message.id, ...withVote(message, choice) });
      try {
        const settled = await vote.mutateAsync({ messageId: message.id, vote: choice });
        dispatch({
          type: 'vote',
          messageId: message.id,
          up: settled.up,
          down: settled.down,
          myVote: settled.myVote === 'none' ? null : settled.myVote,
        });
      } catch (failure) {
        const { up, down, myVote } = message;
        dispatch({ type: 'vote', messageId: message.id, up, down, myVote });
        setError(describeError(failure).message);
      }
    },
    [vote],
  );

  return {
    ...state,
    live,
    ended,
    error,
    dismissError: () => setError(null),
    loadOlder,
    sendMessage,
    castVote,
    sending: send.isPending,
  };
}
