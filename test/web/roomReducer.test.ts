import { describe, expect, it } from 'vitest';
import type { MessageView } from '../../src/contract/models.js';
import { initialRoom, roomReducer, topMessages } from '../../src/web/chat/roomReducer.js';

const view = (id: string, up = 0, down = 0, createdAt = 0): MessageView => ({
  id,
  roomId: 'general',
  author: { id: 'a', username: 'a' },
  body: id,
  createdAt,
  up,
  down,
  myVote: null,
});

describe('the room reducer', () => {
  it('puts older pages before what it holds, once, and takes their hasMore', () => {
    const live = roomReducer(initialRoom, {
      type: 'event',
      readerId: 'me',
      event: { type: 'snapshot', messages: [view('c'), view('d')], hasMore: true },
    });
    const paged = roomReducer(live, {
      type: 'older',
      page: { messages: [view('a'), view('b'), view('c')], hasMore: false },
    });
    expect(paged.messages.map((m) => m.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(paged.hasMore).toBe(false);
  });

  it('sets counts and the reader’s vote for one message only', () => {
    const state = { ...initialRoom, messages: [view('a'), view('b')] };
    const voted = roomReducer(state, {
      type: 'vote',
      messageId: 'b',
      up: 4,
      down: 1,
      myVote: 'up',
    });
    expect(voted.messages).toEqual([view('a'), { ...view('b', 4, 1), myVote: 'up' }]);
  });

  it('orders the Top view by score, newest first among equals, without touching the original', () => {
    const messages = [
      view('old-zero', 1, 1, 1),
      view('best', 5, 1, 2),
      view('new-zero', 0, 0, 3),
      view('worst', 0, 3, 4),
    ];
    expect(topMessages(messages).map((m) => m.id)).toEqual([
      'best',
      'new-zero',
      'old-zero',
      'worst',
    ]);
    expect(messages[0]?.id).toBe('old-zero');
  });
});
