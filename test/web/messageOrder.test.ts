import { describe, expect, it } from 'vitest';
import { AS_SENT, type MessageView } from '../../src/contract/models.js';
import { topMessages } from '../../src/web/room/messageOrder.js';

const view = (id: string, up = 0, down = 0, createdAt = 0, answered = false): MessageView => ({
  id,
  roomId: 'general',
  ...AS_SENT,
  author: { id: 'a', username: 'a' },
  body: id,
  createdAt,
  up,
  down,
  myVote: null,
  answered,
});

describe('the message order', () => {
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

  it('hides answered messages from the Top view when asked', () => {
    const messages = [view('open', 1, 0, 1), view('done', 5, 0, 2, true)];
    expect(topMessages(messages).map((m) => m.id)).toEqual(['done', 'open']);
    expect(topMessages(messages, { hideAnswered: true }).map((m) => m.id)).toEqual(['open']);
  });
});
