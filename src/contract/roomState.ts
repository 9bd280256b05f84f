import type { ChatEvent } from './events.js';
import { LIMITS } from './limits.js';
import type { Message, MessageView, PublicUser } from './models.js';

/** A room as one reader sees it, rebuilt from `chat.events`. */
export interface RoomState {
  /** Oldest first. */
  messages: MessageView[];
  /** Whether older messages exist before the first one held (page them with `chat.history`). */
  hasMore: boolean;
  /** The room's pinned messages, newest pin first, at most `LIMITS.pinnedMax`. */
  pinned: MessageView[];
  /** Distinct users online in the room. */
  online: number;
  /** Who is online: at most `LIMITS.presenceNamesMax` of them (`online` is the total). */
  onlineUsers: PublicUser[];
  /** Who else is typing (never the reader). */
  typing: PublicUser[];
}

export const EMPTY_ROOM: RoomState = {
  messages: [],
  hasMore: false,
  pinned: [],
  online: 0,
  onlineUsers: [],
  typing: [],
};

/**
 * Folds one event into the reader's state. Pure, and safe to apply to an event already seen:
 * messages are keyed by id, and every change event carries its result (totals, the new body, the
 * flag), not a delta. Replaying the log after a snapshot gives the state a later snapshot shows.
 */
export function applyChatEvent(state: RoomState, event: ChatEvent, readerId: string): RoomState {
  switch (event.type) {
    case 'snapshot':
      return {
        ...state,
        messages: event.messages,
        hasMore: event.hasMore,
        pinned: event.pinned,
      };
    case 'message': {
      // Their message is here: they have stopped typing it.
      const typing = state.typing.filter((user) => user.id !== event.message.author.id);
      if (state.messages.some((m) => m.id === event.message.id)) return { ...state, typing };
      return {
        ...state,
        typing,
        messages: [...state.messages, { ...event.message, myVote: null }],
      };
    }
    case 'vote': {
      const mine = event.voterId === readerId;
      return patchMessage(state, event.messageId, (m) => ({
        ...m,
        up: event.up,
        down: event.down,
        myVote: mine ? (event.vote === 'none' ? null : event.vote) : m.myVote,
      }));
    }
    case 'edit':
      return patchMessage(state, event.messageId, (m) =>
        m.removed ? m : { ...m, body: event.body, editedAt: event.editedAt },
      );
    case 'remove': {
      const removed = patchMessage(state, event.messageId, (m) => ({
        ...m,
        body: '',
        removed: true,
        pinned: false,
      }));
      return { ...removed, pinned: removed.pinned.filter((m) => m.id !== event.messageId) };
    }
    case 'pin':
      return pin(state, event.messageId, event.pinned ? event.message : null);
    case 'answer':
      return patchMessage(state, event.messageId, (m) => ({ ...m, answered: event.answered }));
    case 'presence':
      return { ...state, online: event.online, onlineUsers: event.users };
    case 'typing':
      return { ...state, typing: event.users.filter((user) => user.id !== readerId) };
  }
}

/** Applies `change` to the message wherever it is held: in the list and among the pinned. */
function patchMessage(
  state: RoomState,
  messageId: string,
  change: (message: MessageView) => MessageView,
): RoomState {
  const patch = (list: MessageView[]) =>
    list.some((m) => m.id === messageId)
      ? list.map((m) => (m.id === messageId ? change(m) : m))
      : list;
  return { ...state, messages: patch(state.messages), pinned: patch(state.pinned) };
}

/**
 * Pins (with the message as the event carried it, for when the reader does not hold it) or,
 * with null, unpins. A pin goes first among the pinned, as a snapshot lists them.
 */
function pin(state: RoomState, messageId: string, message: Message | null): RoomState {
  const flagged = patchMessage(state, messageId, (m) => ({ ...m, pinned: message !== null }));
  const others = flagged.pinned.filter((m) => m.id !== messageId);
  if (message === null) return { ...flagged, pinned: others };
  const held =
    flagged.messages.find((m) => m.id === messageId) ??
    flagged.pinned.find((m) => m.id === messageId) ??
    ({ ...message, pinned: true, myVote: null } satisfies MessageView);
  return { ...flagged, pinned: [held, ...others].slice(0, LIMITS.pinnedMax) };
}
