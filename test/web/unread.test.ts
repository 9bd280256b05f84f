import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/contract/limits.js';
import { unreadCount } from '../../src/web/directory/RoomDirectory.js';

describe('unread counts on the room list', () => {
  it('shows the count, and "99+" from the server’s cap up', () => {
    expect(unreadCount(1)).toBe('1');
    expect(unreadCount(LIMITS.unreadCountMax - 1)).toBe(String(LIMITS.unreadCountMax - 1));
    expect(unreadCount(LIMITS.unreadCountMax)).toBe(`${LIMITS.unreadCountMax}+`);
  });
});
