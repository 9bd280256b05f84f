import type { LoggedEvent } from '../contract/events.js';
import type { Message } from '../contract/models.js';
import { MessageRemovedError } from './store.js';

/**
 * The changes a message can go through after it is sent, and how every store decides them: from
 * the message as it is right before the change's place in the log.
 */
export type MessageChange =
  | { type: 'edit'; body: string; editedAt: number }
  | { type: 'remove'; removedAt: number; by: 'author' | 'owner' }
  | { type: 'pin'; pinned: boolean }
  | { type: 'answer'; answered: boolean };

export interface DecidedChange {
  event: LoggedEvent;
  /** The message once the event is applied. */
  after: Message;
}

/**
 * The event that makes `change` to `message`, or null when the message already is what the
 * change asks (nothing to log). Only a removal may meet a removed message (and changes nothing);
 * anything else throws {@link MessageRemovedError}.
 */
export function decideChange(message: Message, change: MessageChange): DecidedChange | null {
  const messageId = message.id;
  if (message.removed) {
    if (change.type === 'remove') return null;
    throw new MessageRemovedError(messageId);
  }
  switch (change.type) {
    case 'edit': {
      if (change.body === message.body) return null;
      const { body, editedAt } = change;
      return {
        event: { type: 'edit', messageId, body, editedAt },
        after: { ...message, body, editedAt },
      };
    }
    case 'remove': {
      const { removedAt, by } = change;
      return {
        event: { type: 'remove', messageId, removedAt, by },
        after: { ...message, body: '', removed: true, pinned: false },
      };
    }
    case 'pin': {
      if (change.pinned === message.pinned) return null;
      const after = { ...message, pinned: change.pinned };
      return {
        event: {
          type: 'pin',
          messageId,
          pinned: change.pinned,
          message: change.pinned ? after : null,
        },
        after,
      };
    }
    case 'answer': {
      if (change.answered === message.answered) return null;
      return {
        event: { type: 'answer', messageId, answered: change.answered },
        after: { ...message, answered: change.answered },
      };
    }
  }
}

/** Whether a log entry carries the message's body, so that removing the message scrubs it. */
export function carriesBody(event: LoggedEvent): boolean {
  return (
    event.type === 'message' || event.type === 'edit' || (event.type === 'pin' && event.pinned)
  );
}

/** A log entry of a removed message, its body taken out (an entry that carries none stays). */
export function withoutBody(event: LoggedEvent): LoggedEvent {
  switch (event.type) {
    case 'message':
      return { ...event, message: { ...event.message, body: '', removed: true, pinned: false } };
    case 'edit':
      return { ...event, body: '' };
    case 'pin':
      return event.message
        ? { ...event, message: { ...event.message, body: '', removed: true, pinned: false } }
        : event;
    default:
      return event;
  }
}
