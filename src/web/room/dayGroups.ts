import type { MessageView } from '../../contract/models.js';
import { startOfDay } from '../time/timeLabels.js';

export type ListItem =
  | { kind: 'day'; key: string; time: number }
  | { kind: 'message'; key: string; message: MessageView };

/** The messages in their order, with a day heading before the first message of each local day. */
export function withDayHeadings(messages: readonly MessageView[]): ListItem[] {
  const items: ListItem[] = [];
  let day: number | null = null;
  for (const message of messages) {
    const start = startOfDay(message.createdAt);
    if (start !== day) {
      day = start;
      items.push({ kind: 'day', key: `day-${start}`, time: message.createdAt });
    }
    items.push({ kind: 'message', key: message.id, message });
  }
  return items;
}
