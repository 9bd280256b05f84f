import type { MessageView, PublicUser } from '../../contract/models.js';
import type { Vote } from './votes.js';

/** What a reader may do to a message beyond voting. */
export type MessageAction = 'edit' | 'remove' | 'pin' | 'unpin' | 'markAnswered' | 'unmarkAnswered';

/** Who is looking: the reader, and whether they own the room. */
export interface Viewer {
  reader: PublicUser;
  isOwner: boolean;
}

/**
 * The author edits and removes their own messages; the room's owner removes any, pins and marks
 * answered. A removed message is past all of that.
 */
export function actionsFor(message: MessageView, { reader, isOwner }: Viewer): MessageAction[] {
  if (message.removed) return [];
  const own = message.author.id === reader.id;
  const actions: MessageAction[] = [];
  if (own) actions.push('edit');
  if (isOwner) {
    actions.push(message.pinned ? 'unpin' : 'pin');
    actions.push(message.answered ? 'unmarkAnswered' : 'markAnswered');
  }
  if (own || isOwner) actions.push('remove');
  return actions;
}

/**
 * What the list's messages ask of the room. Each change resolves true once the server took it,
 * false when it was refused (the room says why).
 */
export interface MessageHandlers {
  vote(message: MessageView, clicked: Vote): void;
  edit(message: MessageView, body: string): Promise<boolean>;
  remove(message: MessageView): Promise<boolean>;
  pin(message: MessageView, pinned: boolean): Promise<boolean>;
  markAnswered(message: MessageView, answered: boolean): Promise<boolean>;
  /** Sends a failed message again, under the same client id (never twice). */
  retry(clientMessageId: string): void;
  /** Gives a failed message up. */
  discard(clientMessageId: string): void;
}
