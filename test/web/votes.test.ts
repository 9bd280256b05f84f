import { describe, expect, it } from 'vitest';
import type { MessageView } from '../../src/contract/models.js';
import { nextVote, withVote } from '../../src/web/chat/votes.js';

const message = (up: number, down: number, myVote: MessageView['myVote']): MessageView => ({
  id: 'm',
  roomId: 'general',
  author: { id: 'a', username: 'a' },
  body: 'x',
  createdAt: 0,
  up,
  down,
  myVote,
});

describe('vote clicks', () => {
  it('votes, takes the vote back on a second click, and switches sides', () => {
    expect(nextVote(null, 'up')).toBe('up');
    expect(nextVote('up', 'up')).toBe('none');
    expect(nextVote('up', 'down')).toBe('down');
    expect(nextVote('down', 'down')).toBe('none');
  });

  it('predicts the counts the server will settle on', () => {
    expect(withVote(message(2, 1, null), 'up')).toEqual({ up: 3, down: 1, myVote: 'up' });
    expect(withVote(message(3, 1, 'up'), 'down')).toEqual({ up: 2, down: 2, myVote: 'down' });
    expect(withVote(message(2, 2, 'down'), 'none')).toEqual({ up: 2, down: 1, myVote: null });
  });
});
