import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/contract/events.js';
import type { Message } from '../../src/contract/models.js';
import { applyChatEvent, EMPTY_ROOM, type RoomState } from '../../src/contract/roomState.js';

const me = 'me';
const message = (id: string): Message => ({
  id,
  roomId: 'general',
  author: { id: 'someone', username: 'someone' },
  body: id,
  createdAt: 1,
  up: 0,
  down: 0,
});
const fold = (events: ChatEvent[], from: RoomState = EMPTY_ROOM) =>
  events.reduce((state, event) => applyChatEvent(state, event, me), from);

describe('applyChatEvent', () => {
  it('replaces everything held with a snapshot', () => {
    const before = fold([{ type: 'message', message: message('a') }]);
    const after = fold(
      [{ type: 'snapshot', messages: [{ ...message('b'), myVote: 'up' }], hasMore: true }],
      before,
    );
    expect(after.messages.map((m) => m.id)).toEqual(['b']);
    expect(after.hasMore).toBe(true);
  });

  it('appends new messages once, even when an event is applied twice', () => {
    const event: ChatEvent = { type: 'message', message: message('a') };
    expect(
      fold([event, event, { type: 'message', message: message('b') }]).messages.map((m) => m.id),
    ).toEqual(['a', 'b']);
  });

  it('takes vote totals from the event and the reader’s own vote only from their own votes', () => {
    const state = fold([
      { type: 'message', message: message('a') },
      { type: 'vote', messageId: 'a', up: 1, down: 0, voterId: me, vote: 'up' },
      { type: 'vote', messageId: 'a', up: 1, down: 1, voterId: 'other', vote: 'down' },
    ]);
    expect(state.messages[0]).toMatchObject({ up: 1, down: 1, myVote: 'up' });
    const withdrawn = fold(
      [{ type: 'vote', messageId: 'a', up: 0, down: 1, voterId: me, vote: 'none' }],
      state,
    );
    expect(withdrawn.messages[0]).toMatchObject({ up: 0, down: 1, myVote: null });
  });

  it('ignores votes on messages it does not hold, and tracks the online count', () => {
    const state = fold([
      { type: 'vote', messageId: 'zzz', up: 5, down: 0, voterId: me, vote: 'up' },
      { type: 'presence', online: 3 },
    ]);
    expect(state).toEqual({ messages: [], hasMore: false, online: 3 });
  });
});
