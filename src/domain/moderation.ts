import type { Message, PublicUser, RemoveResult } from '../contract/models.js';
import type { EditInput, MarkAnsweredInput, PinInput, RemoveInput } from '../contract/schemas.js';
import { type ChangeOutcome, MessageRemovedError, type Store } from '../storage/store.js';
import type { Announcer } from './announcer.js';
import { DomainError } from './errors.js';
import { messageNotFound, takeMessageToken } from './messages.js';
import type { RateLimiter } from './rateLimiter.js';
import type { RoomService } from './rooms.js';

/**
 * Changes to messages after they are sent: authors edit and remove their own, a room's owner
 * removes any, pins and marks answers. Who may do what is decided from the token's user and
 * what never changes (a message's author, a room's owner); the store decides the rest from the
 * message as it is at the change's turn. Each change costs one of the user's message tokens.
 */
export class ModerationService {
  constructor(
    private readonly store: Store,
    private readonly rooms: RoomService,
    private readonly messages: RateLimiter,
    private readonly announcer: Announcer,
  ) {}

  async edit(author: PublicUser, { messageId, body }: EditInput): Promise<Message> {
    takeMessageToken(this.messages, author);
    const message = await this.require(messageId);
    if (message.author.id !== author.id) {
      throw new DomainError('FORBIDDEN', 'You can only edit your own messages');
    }
    return (await this.change(this.store.messages.edit(messageId, body, Date.now()))).message;
  }

  /** Removes a message for good (its author, or the room's owner); removing it again is a no-op. */
  async remove(user: PublicUser, { messageId }: RemoveInput): Promise<RemoveResult> {
    takeMessageToken(this.messages, user);
    const message = await this.require(messageId);
    let by: 'author' | 'owner' = 'author';
    if (message.author.id !== user.id) {
      const owner = await this.rooms.ownerOf(message.roomId);
      if (owner?.id !== user.id) {
        throw new DomainError(
          'FORBIDDEN',
          owner
            ? `You can only remove your own messages; the room's owner, ${owner.username}, can remove others'`
            : 'You can only remove your own messages',
        );
      }
      by = 'owner';
    }
    await this.change(this.store.messages.remove(messageId, Date.now(), by));
    return { messageId };
  }

  async pin(user: PublicUser, { messageId, pinned }: PinInput): Promise<Message> {
    takeMessageToken(this.messages, user);
    const message = await this.require(messageId);
    await this.requireOwner(user, message.roomId, 'pin messages');
    return (await this.change(this.store.messages.pin(messageId, pinned))).message;
  }

  async markAnswered(
    user: PublicUser,
    { messageId, answered }: MarkAnsweredInput,
  ): Promise<Message> {
    takeMessageToken(this.messages, user);
    const message = await this.require(messageId);
    await this.requireOwner(user, message.roomId, 'mark messages answered');
    return (await this.change(this.store.messages.answer(messageId, answered))).message;
  }

  private async require(messageId: string): Promise<Message> {
    const message = await this.store.messages.get(messageId);
    if (!message) throw messageNotFound(messageId);
    return message;
  }

  private async requireOwner(user: PublicUser, roomId: string, what: string): Promise<void> {
    const owner = await this.rooms.ownerOf(roomId);
    if (owner?.id === user.id) return;
    throw new DomainError(
      'FORBIDDEN',
      owner
        ? `Only the room's owner, ${owner.username}, can ${what}`
        : `Only a room's owner can ${what}, and this room has none`,
    );
  }

  /** Waits for a stored change and tells the room about it. */
  private async change(write: Promise<ChangeOutcome | null>): Promise<ChangeOutcome> {
    let outcome: ChangeOutcome | null;
    try {
      outcome = await write;
    } catch (error) {
      if (error instanceof MessageRemovedError) {
        throw new DomainError('PRECONDITION_FAILED', 'This message was removed');
      }
      throw error;
    }
    // Messages are never deleted, so one found a moment ago is still there.
    if (!outcome) throw new Error('a message vanished while it was being changed');
    await this.announcer.announce(outcome.message.roomId, outcome.entry);
    return outcome;
  }
}
