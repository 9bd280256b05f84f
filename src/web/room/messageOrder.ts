import type { MessageView } from '../../contract/models.js';

/** Latest: the room's order. Top: by score. */
export type MessageOrder = 'latest' | 'top';

/** Highest score (up minus down) first; among equals, the newest first. */
export function topMessages(
  messages: readonly MessageView[],
  { hideAnswered = false }: { hideAnswered?: boolean } = {},
): MessageView[] {
  return messages
    .filter((m) => !(hideAnswered && m.answered))
    .sort((a, b) => b.up - b.down - (a.up - a.down) || b.createdAt - a.createdAt);
}
