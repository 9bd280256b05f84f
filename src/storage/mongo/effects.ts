import type { LoggedEntry } from '../store.js';
import { type MessageDoc, type StoredVote, sendKey, storedVote } from './documents.js';

/** What one log entry does to the derived documents: `apply` writes it, `RoomState` folds it in. */
export type Effect =
  | { kind: 'message'; doc: MessageDoc }
  | { kind: 'send'; key: string; messageId: string }
  | { kind: 'vote'; messageId: string; voterId: string; seq: number; value: StoredVote }
  | MessageEffect;
/** Effects that change a message document, each guarded by the seq of its field group. */
export type MessageEffect =
  | { kind: 'counts'; messageId: string; seq: number; up: number; down: number }
  | {
      kind: 'body';
      messageId: string;
      seq: number;
      body: string;
      /** Unset by a removal, which keeps the time of the last edit. */
      editedAt?: number;
      removed: boolean;
      /** Whether the entry itself carries the body (an edit; not the removal). */
      carried: boolean;
    }
  | { kind: 'pin'; messageId: string; seq: number; pinned: boolean; carried: boolean }
  | { kind: 'answer'; messageId: string; seq: number; answered: boolean };
export type CountsEffect = Extract<Effect, { kind: 'counts' }>;
export type VoteEffect = Extract<Effect, { kind: 'vote' }>;

export function effectsOf(roomId: string, { seq, event }: LoggedEntry): Effect[] {
  switch (event.type) {
    case 'message': {
      const { message } = event;
      const doc: MessageDoc = {
        _id: message.id,
        roomId,
        seq,
        author: { id: message.author.id, username: message.author.username },
        body: message.body,
        createdAt: message.createdAt,
        up: message.up,
        down: message.down,
        countsSeq: seq,
        editedAt: null,
        removed: false,
        pinned: false,
        answered: false,
        clientMessageId: message.clientMessageId,
        bodySeq: seq,
        pinSeq: 0,
        answerSeq: 0,
        bodySeqs: [],
      };
      const { clientMessageId } = message;
      return clientMessageId === null
        ? [{ kind: 'message', doc }]
        : [
            { kind: 'message', doc },
            {
              kind: 'send',
              key: sendKey(roomId, message.author.id, clientMessageId),
              messageId: message.id,
            },
          ];
    }
    case 'vote':
      return [
        { kind: 'counts', messageId: event.messageId, seq, up: event.up, down: event.down },
        {
          kind: 'vote',
          messageId: event.messageId,
          voterId: event.voterId,
          seq,
          value: storedVote(event.vote),
        },
      ];
    case 'edit': {
      const { messageId, body, editedAt } = event;
      return [{ kind: 'body', messageId, seq, body, editedAt, removed: false, carried: true }];
    }
    case 'remove': {
      const { messageId } = event;
      return [
        { kind: 'body', messageId, seq, body: '', removed: true, carried: false },
        { kind: 'pin', messageId, seq, pinned: false, carried: false },
      ];
    }
    case 'pin':
      return [
        {
          kind: 'pin',
          messageId: event.messageId,
          seq,
          pinned: event.pinned,
          carried: event.message !== null,
        },
      ];
    case 'answer':
      return [{ kind: 'answer', messageId: event.messageId, seq, answered: event.answered }];
  }
}

export function isMessageEffect(effect: Effect): effect is MessageEffect {
  return (
    effect.kind === 'counts' ||
    effect.kind === 'body' ||
    effect.kind === 'pin' ||
    effect.kind === 'answer'
  );
}

/** The seq a message's field group was last set by; messages stored before it existed count from their own seq. */
export function seqOf(doc: MessageDoc, kind: MessageEffect['kind']): number {
  switch (kind) {
    case 'counts':
      return doc.countsSeq;
    case 'body':
      return doc.bodySeq ?? doc.seq;
    case 'pin':
      return doc.pinSeq ?? 0;
    case 'answer':
      return doc.answerSeq ?? 0;
  }
}

/** The field names of `seqOf`, for the same guard in a database filter. */
export const SEQ_FIELD = {
  counts: 'countsSeq',
  body: 'bodySeq',
  pin: 'pinSeq',
  answer: 'answerSeq',
} as const;

/** What `effect` sets on its message. */
export function changesOf(effect: MessageEffect): Partial<MessageDoc> {
  switch (effect.kind) {
    case 'counts':
      return { up: effect.up, down: effect.down, countsSeq: effect.seq };
    case 'body':
      return {
        body: effect.body,
        removed: effect.removed,
        bodySeq: effect.seq,
        ...(effect.editedAt === undefined ? {} : { editedAt: effect.editedAt }),
      };
    case 'pin':
      return { pinned: effect.pinned, pinSeq: effect.seq };
    case 'answer':
      return { answered: effect.answered, answerSeq: effect.seq };
  }
}

/** The message document once `effect` is applied; unchanged when it already reflects it. */
export function withEffect(doc: MessageDoc, effect: MessageEffect): MessageDoc {
  if (seqOf(doc, effect.kind) >= effect.seq) return doc;
  const carried = effect.kind !== 'counts' && effect.kind !== 'answer' && effect.carried;
  return {
    ...doc,
    ...changesOf(effect),
    ...(carried ? { bodySeqs: [...(doc.bodySeqs ?? []), effect.seq] } : {}),
  };
}
