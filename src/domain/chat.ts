import type { EventBus } from '../bus/eventBus.js';
import type { HistoryPage, Message, PublicUser, VoteResult } from '../contract/models.js';
import type { HistoryInput, SendInput, VoteInput } from '../contract/schemas.js';
import { type LoggedEntry, RoomNotFoundError, type Store } from '../storage/store.js';
import { DomainError } from './errors.js';
import { ulid } from './ids.js';
import type { RateLimiter } from './rateLimiter.js';
import { type RoomService, roomNotFound } from './rooms.js';

export interface ChatLimits {
  messages: RateLimiter;
  votes: RateLimiter;
}

/** Sending, voting and reading history; every change is stored before it is published. */
export class ChatService {
  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly rooms: RoomService,
    private readonly limits: ChatLimits,
    private readonly onPublishError: (error: unknown) => void = () => {},
  ) {}

  /**
   * Tells the room about an entry already stored. A failed publish does not fail the request:
   * the entry is safe in the log, and members receive it when their chat server fills the gap
   * (at the room's next entry) or when they resume.
   */
  private async announce(roomId: string, entry: LoggedEntry): Promise<void> {
    try {
      await this.bus.publish(roomId, { kind: 'logged', ...entry });
    } catch (error) {
      this.onPublishError(error);
    }
  }

  async send(author: PublicUser, { roomId, body }: SendInput): Promise<Message> {
    if (!this.limits.messages.tryTake(author.id)) {
      throw new DomainError('TOO_MANY_REQUESTS', 'You are sending messages too fast; slow down');
    }
    const message: Message = {
      id: ulid(),
      roomId,
      author,
      body,
      createdAt: Date.now(),
      up: 0,
      down: 0,
    };
    // The room is checked by the append itself: one round trip less per message.
    const entry = await this.store.messages.append(message).catch((error: unknown) => {
      if (error instanceof RoomNotFoundError) throw roomNotFound(roomId);
      throw error;
    });
    await this.announce(roomId, entry);
    return message;
  }

  async vote(voter: PublicUser, { messageId, vote }: VoteInput): Promise<VoteResult> {
    if (!this.limits.votes.tryTake(voter.id)) {
      throw new DomainError('TOO_MANY_REQUESTS', 'You are voting too fast; slow down');
    }
    const outcome = await this.store.messages.vote(messageId, voter.id, vote);
    if (!outcome) throw new DomainError('NOT_FOUND', `There is no message "${messageId}"`);
    if (outcome.entry) await this.announce(outcome.roomId, outcome.entry);
    return { messageId, up: outcome.up, down: outcome.down, myVote: vote };
  }

  async history(reader: PublicUser, { roomId, before, limit }: HistoryInput): Promise<HistoryPage> {
    await this.rooms.require(roomId);
    return this.store.messages.page(roomId, before, limit, reader.id);
  }
}
