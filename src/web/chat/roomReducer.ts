import type { ChatEvent } from '../../contract/events.js';
import type { HistoryPage, MessageView } from '../../contract/models.js';
import { applyChatEvent, EMPTY_ROOM, type RoomState } from '../../contract/roomState.js';

export type RoomAction =
  | { type: 'event'; event: ChatEvent; readerId: string }
  /** An older page from `chat.history`, to go before what is held. */
  | { type: 'older'; page: HistoryPage }
  /** Counts and the reader's vote for one message: optimistic, settled or rolled back. */
  | { type: 'vote'; messageId: string; up: number; down: number; myVote: MessageView['myVote'] };

export const initialRoom: RoomState = EMPTY_ROOM;

export function roomReducer(state: RoomState, action: RoomAction): RoomState {
  switch (action.type) {
    case 'event':
      return applyChatEvent(state, action.event, action.readerId);
    case 'older': {
      const held = new Set(state.messages.map((m) => m.id));
      const older = action.page.messages.filter((m) => !held.has(m.id));
      return { ...state, messages: [...older, ...state.messages], hasMore: action.page.hasMore };
    }
    case 'vote':
      return {
        ...state,
        messages: state.messages.map((m) =>
          m.id === action.messageId
            ? { ...m, up: action.up, down: action.down, myVote: action.myVote }
            : m,
        ),
      };
  }
}

export type RoomView = 'latest' | 'top';

/** Highest score (up minus down) first; among equals, the newest first. */
export function topMessages(messages: readonly MessageView[]): MessageView[] {
  return [...messages].sort((a, b) => b.up - b.down - (a.up - a.down) || b.createdAt - a.createdAt);
}
