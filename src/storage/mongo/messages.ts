import type { VoteEvent } from '../../contract/events.js';
import type { Message } from '../../contract/models.js';
import { type DecidedChange, decideChange, type MessageChange } from '../messageChanges.js';
import {
  type ChangeOutcome,
  DuplicateMessageError,
  type LoggedEntry,
  MessageRemovedError,
  type MessageRepository,
  RoomNotFoundError,
  type VoteOutcome,
} from '../store.js';
import type { Collections } from './collections.js';
import { committerOf } from './commit.js';
import { readMarkKey, sendKey, storedVote, toMessage } from './documents.js';
import { ignoringDuplicate } from './errors.js';
import { readsOf, roomOfMessage } from './reads.js';

/** Messages and votes: every change as a write in its room's queue, and the reads beside them. */
export function messageRepository(c: Collections): MessageRepository {
  const { readMarks } = c;
  const committer = committerOf(c);
  const { submit, appliedHead } = committer;

  /** Queues an edit, removal, pin or answer, decided from the message as it is at its turn. */
  const change = async (
    messageId: string,
    requested: MessageChange,
  ): Promise<ChangeOutcome | null> => {
    const roomId = await roomOfMessage(c, messageId);
    if (roomId === null) return null;
    return submit<ChangeOutcome | null>(roomId, (resolve, reject) => ({
      reads: [{ messageId }],
      decide(state) {
        const doc = state.message(messageId);
        if (!doc) return { answer: () => resolve(null) };
        const before = toMessage(doc);
        let decided: DecidedChange | null;
        try {
          decided = decideChange(before, requested);
        } catch (error) {
          return { answer: () => reject(error) };
        }
        if (!decided) return { answer: () => resolve({ message: before, entry: null }) };
        const { event, after } = decided;
        return { event, committed: (entry) => resolve({ message: after, entry }) };
      },
    }));
  };

  return {
    ...readsOf(c, committer),

    append(message: Message) {
      const { clientMessageId } = message;
      const key =
        clientMessageId === null
          ? null
          : sendKey(message.roomId, message.author.id, clientMessageId);
      return submit<LoggedEntry>(message.roomId, (resolve, reject) => ({
        reads: key === null ? [] : [{ sendKey: key }],
        decide(state) {
          const original = key === null ? null : state.sent(key);
          if (original) {
            return { answer: () => reject(new DuplicateMessageError(toMessage(original))) };
          }
          return { event: { type: 'message', message }, committed: resolve };
        },
      }));
    },

    async vote(messageId, userId, value): Promise<VoteOutcome | null> {
      const roomId = await roomOfMessage(c, messageId);
      if (roomId === null) return null;
      const next = storedVote(value);
      return submit<VoteOutcome | null>(roomId, (resolve, reject) => ({
        reads: [{ messageId, voterId: userId }],
        decide(state) {
          const counts = state.message(messageId);
          if (!counts) return { answer: () => resolve(null) };
          // Votes on a removed message are frozen.
          if (counts.removed) {
            return { answer: () => reject(new MessageRemovedError(messageId)) };
          }
          const previous = state.vote(messageId, userId);
          if (previous === next) {
            const { up, down } = counts;
            return { answer: () => resolve({ roomId, up, down, entry: null }) };
          }
          const event: VoteEvent = {
            type: 'vote',
            messageId,
            up: counts.up + Number(next === 1) - Number(previous === 1),
            down: counts.down + Number(next === -1) - Number(previous === -1),
            voterId: userId,
            vote: value,
          };
          return {
            event,
            committed: (entry) => resolve({ roomId, up: event.up, down: event.down, entry }),
          };
        },
      }));
    },

    edit(messageId, body, editedAt) {
      return change(messageId, { type: 'edit', body, editedAt });
    },

    remove(messageId, removedAt, by) {
      return change(messageId, { type: 'remove', removedAt, by });
    },

    pin(messageId, pinned) {
      return change(messageId, { type: 'pin', pinned });
    },

    answer(messageId, answered) {
      return change(messageId, { type: 'answer', answered });
    },

    async markRead(userId, roomId, seq) {
      // Never past the head: a position beyond it would hide the room's next messages.
      const head = await appliedHead(roomId);
      if (head === null) throw new RoomNotFoundError(roomId);
      await ignoringDuplicate(
        readMarks.updateOne(
          { _id: readMarkKey(userId, roomId) },
          { $max: { seq: Math.min(seq, head) }, $setOnInsert: { userId, roomId } },
          { upsert: true },
        ),
      );
    },
  };
}
