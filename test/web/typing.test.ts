import { describe, expect, it } from 'vitest';
import { typingLabel } from '../../src/web/room/typing.js';

const users = (...names: string[]) => names.map((username) => ({ id: username, username }));

describe('who is typing, in words', () => {
  it('names up to three people and counts the rest', () => {
    expect(typingLabel([])).toBe('');
    expect(typingLabel(users('ada'))).toBe('ada is typing…');
    expect(typingLabel(users('ada', 'bo'))).toBe('ada and bo are typing…');
    expect(typingLabel(users('ada', 'bo', 'cy'))).toBe('ada, bo and cy are typing…');
    expect(typingLabel(users('ada', 'bo', 'cy', 'di', 'ed'))).toBe(
      'ada, bo and 3 others are typing…',
    );
  });
});
