import type { ChatEvent } from './events.js';
import type { MessageView } from './models.js';

/** A room as one reader sees it, rebuilt from `chat.events`. */
export interface RoomState {
  /** Oldest first. */
  messages: MessageView[];
  /** Whether older messages exist before the first one held (page them with `chat.history`). */
  hasMore: boolean;
  online: number;
}

export const EMPTY_ROOM: RoomState = { messages: [], hasMore: false, online: 0 };

/**
 * Folds one event into the reader's state. Pure, and safe to apply to an event already seen:
 * messages are keyed by id and vote events carry totals, not deltas.
 */
export function applyChatEvent(state: RoomState, event: ChatEvent, readerId: string): RoomState {
  switch (event.type) {
    case 'snapshot':
      return { ...state, messages: event.messages, hasMore: event.hasMore };
    case 'message':
      if (state.messages.some((m) => m.id === event.message.id)) return state;
      return { ...state, messages: [...state.messages, { ...event.message, myVote: null }] };
    case 'vote':
      return {
        ...state,
        messages: state.messages.map((m) => {
          if (m.id !== event.messageId) return m;
          const mine = event.voterId === readerId;
          const myVote = mine ? (event.vote === 'none' ? null : event.vote) : m.myVote;
          return { ...m, up: event.up, down: event.down, myVote };
        }),
      };
    case 'presence':
      return { ...state, online: event.online };
  }
}
