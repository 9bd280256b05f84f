import type { EventBus } from '../bus/eventBus.js';
import {
  AS_SENT,
  type HistoryPage,
  type Message,
  type PublicUser,
  type VoteResult,
} from '../contract/models.js';
import type { HistoryInput, MarkReadInput, SendInput, VoteInput } from '../contract/schemas.js';
import {
  DuplicateMessageError,
  type LoggedEntry,
  MessageRemovedError,
  RoomNotFoundError,
  type Store,
} from '../storage/store.js';
import { Announcer } from './announcer.js';
import { DomainError } from './errors.js';
import { ulid } from './ids.js';
import type { RateLimiter } from './rateLimiter.js';
import { type RoomService, roomNotFound } from './rooms.js';

export interface ChatLimits {
  /** Sends, and the edits, removals, pins and answers that share their bucket. */
  messages: RateLimiter;
  votes: RateLimiter;
}

/** Sending, voting, reading; every change is stored before it is published. */
export class MessageService {
  private readonly announcer: Announcer;

  constructor(
    private readonly store: Store,
    bus: EventBus,
    private readonly rooms: RoomService,
    private readonly limits: ChatLimits,
    onPublishError: (error: unknown) => void = () => {},
  ) {
    this.announcer = new Announcer(bus, onPublishError);
  }

  /**
   * Posts a message. With a `clientMessageId` its author already used in the room, nothing is
   * posted: the message the first attempt posted is the answer (whichever server took it).
   */
  async send(author: PublicUser, { roomId, body, clientMessageId }: SendInput): Promise<Message> {
    takeMessageToken(this.limits.messages, author);
    const message: Message = {
      id: ulid(),
      roomId,
      author,
      body,
      createdAt: Date.now(),
      up: 0,
      down: 0,
      ...AS_SENT,
      clientMessageId: clientMessageId ?? null,
    };
    let entry: LoggedEntry;
    try {
      // The room is checked by the append itself: one round trip less per message.
      entry = await this.store.messages.append(message);
    } catch (error) {
      if (error instanceof DuplicateMessageError) return error.original;
      if (error instanceof RoomNotFoundError) throw roomNotFound(roomId);
      throw error;
    }
    await this.announcer.announce(roomId, entry);
    return message;
  }

  async vote(voter: PublicUser, { messageId, vote }: VoteInput): Promise<VoteResult> {
    if (!this.limits.votes.tryTake(voter.id)) {
      throw new DomainError('TOO_MANY_REQUESTS', 'You are voting too fast; slow down');
    }
    const outcome = await this.store.messages.vote(messageId, voter.id, vote).catch((error) => {
      if (error instanceof MessageRemovedError) {
        throw new DomainError(
          'PRECONDITION_FAILED',
          'This message was removed; its votes are frozen',
        );
      }
      throw error;
    });
    if (!outcome) throw messageNotFound(messageId);
    await this.announcer.announce(outcome.roomId, outcome.entry);
    return { messageId, up: outcome.up, down: outcome.down, myVote: vote };
  }

  async history(reader: PublicUser, { roomId, before, limit }: HistoryInput): Promise<HistoryPage> {
    await this.rooms.require(roomId);
    return this.store.messages.page(roomId, before, limit, reader.id);
  }

  /** Records how far the reader has read the room (never back), on every device alike. */
  async markRead(reader: PublicUser, { roomId, eventId }: MarkReadInput): Promise<void> {
    await this.store.messages.markRead(reader.id, roomId, Number(eventId)).catch((error) => {
      if (error instanceof RoomNotFoundError) throw roomNotFound(roomId);
      throw error;
    });
  }
}

/** Spends one of the user's message tokens (sends, edits, removals, pins and answers share them). */
export function takeMessageToken(limiter: RateLimiter, user: PublicUser): void {
  if (!limiter.tryTake(user.id)) {
    throw new DomainError('TOO_MANY_REQUESTS', 'You are sending messages too fast; slow down');
  }
}

export function messageNotFound(messageId: string): DomainError {
  return new DomainError('NOT_FOUND', `There is no message "${messageId}"`);
}
