import type { MessageView } from '../../contract/models.js';

/**
 * The messages appended after `lastId` (the last one held before). None when `lastId` is gone
 * (a fresh snapshot replaced the list) or was never set.
 */
export function appendedAfter(messages: readonly MessageView[], lastId: string): MessageView[] {
  const index = lastId ? messages.findIndex((m) => m.id === lastId) : -1;
  return index < 0 ? [] : messages.slice(index + 1);
}

/** "1 new message", "3 new messages". */
export function newMessagesLabel(count: number): string {
  return `${count} new message${count === 1 ? '' : 's'}`;
}
