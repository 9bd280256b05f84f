import { describe, expect, it } from 'vitest';
import { nextVote } from '../../src/web/room/votes.js';

describe('vote clicks', () => {
  it('votes, takes the vote back on a second click, and switches sides', () => {
    expect(nextVote(null, 'up')).toBe('up');
    expect(nextVote('up', 'up')).toBe('none');
    expect(nextVote('up', 'down')).toBe('down');
    expect(nextVote('down', 'down')).toBe('none');
  });
});
