import type { LoggedEntry } from '../store.js';
import type { Collections } from './collections.js';
import { type MessageDoc, type StoredVote, voteKey } from './documents.js';
import { effectsOf, isMessageEffect, withEffect } from './effects.js';

/**
 * A derived document a write decides from: a message, and with `voterId` that voter's vote; or
 * with `sendKey` the message its author posted with that client id (see `sendKey`).
 */
export type StateKey = { messageId: string; voterId?: string } | { sendKey: string };

interface VoteState {
  value: StoredVote;
  seq: number;
}
const NO_VOTE: VoteState = { value: 0, seq: 0 };

/**
 * The derived documents a batch decides from, read at the room's head (every entry up to it
 * applied). Deciding folds each drafted entry in, so a later write of the batch sees the earlier
 * ones: two votes of one user in one batch give what two calls in a row would, and a retry of a
 * send drafted earlier in the batch finds it. Each document carries the seq of the last event
 * that set each of its parts, and an entry it already reflects is skipped.
 */
export class RoomState {
  private constructor(
    private readonly roomId: string,
    /** Message documents read (null: no such message) or drafted. */
    private readonly messages: Map<string, MessageDoc | null>,
    /** Votes read, by `voteKey`. */
    private readonly votes: Map<string, VoteState>,
    /** Send keys read, and the message each names (null: none yet). */
    private readonly sends: Map<string, string | null>,
  ) {}

  static async read(c: Collections, roomId: string, keys: StateKey[]): Promise<RoomState> {
    const messageIds = new Set<string>();
    const voteKeys = new Set<string>();
    const sendKeys = new Set<string>();
    for (const key of keys) {
      if ('sendKey' in key) {
        sendKeys.add(key.sendKey);
        continue;
      }
      messageIds.add(key.messageId);
      if (key.voterId !== undefined) voteKeys.add(voteKey(roomId, key.messageId, key.voterId));
    }
    // One lookup by key each (a batch has a few): the one filter FerretDB does not answer by
    // reading the whole collection, and on MongoDB one index entry each.
    const [sendDocs, voteDocs] = await Promise.all([
      Promise.all([...sendKeys].map((key) => c.sends.findOne({ _id: key }))),
      Promise.all([...voteKeys].map((key) => c.votes.findOne({ _id: key }))),
    ]);
    const sends = new Map<string, string | null>([...sendKeys].map((key) => [key, null]));
    for (const doc of sendDocs) {
      if (!doc) continue;
      sends.set(doc._id, doc.messageId);
      messageIds.add(doc.messageId);
    }
    const ids = [...messageIds];
    const docs =
      ids.length === 0 ? [] : await c.messages.find({ roomId, _id: { $in: ids } }).toArray();
    const messages = new Map<string, MessageDoc | null>(ids.map((id) => [id, null]));
    for (const doc of docs) messages.set(doc._id, doc);
    const votes = new Map<string, VoteState>([...voteKeys].map((key) => [key, NO_VOTE]));
    for (const doc of voteDocs) if (doc) votes.set(doc._id, { value: doc.value, seq: doc.seq });
    return new RoomState(roomId, messages, votes, sends);
  }

  /** The message as it is, or null when the room has no such message. */
  message(messageId: string): MessageDoc | null {
    const doc = this.messages.get(messageId);
    if (doc === undefined) throw new Error(`message ${messageId} was not read`);
    return doc;
  }

  vote(messageId: string, voterId: string): StoredVote {
    const state = this.votes.get(voteKey(this.roomId, messageId, voterId));
    if (!state) throw new Error(`the vote of ${voterId} on ${messageId} was not read`);
    return state.value;
  }

  /** The message posted with this send key, or null when there is none yet. */
  sent(key: string): MessageDoc | null {
    const messageId = this.sends.get(key);
    if (messageId === undefined) throw new Error(`send ${key} was not read`);
    return messageId === null ? null : this.message(messageId);
  }

  /** Brings the documents read up to `entry`, the next one in the room's log. */
  fold(entry: LoggedEntry): void {
    for (const effect of effectsOf(this.roomId, entry)) {
      if (isMessageEffect(effect)) {
        const doc = this.messages.get(effect.messageId);
        if (doc) this.messages.set(effect.messageId, withEffect(doc, effect));
        continue;
      }
      switch (effect.kind) {
        case 'message':
          if (!this.messages.get(effect.doc._id)) this.messages.set(effect.doc._id, effect.doc);
          break;
        case 'send':
          if (this.sends.has(effect.key)) this.sends.set(effect.key, effect.messageId);
          break;
        case 'vote': {
          const key = voteKey(this.roomId, effect.messageId, effect.voterId);
          const state = this.votes.get(key);
          if (state && state.seq < effect.seq) this.votes.set(key, effect);
          break;
        }
      }
    }
  }

  clone(): RoomState {
    return new RoomState(
      this.roomId,
      new Map(this.messages),
      new Map(this.votes),
      new Map(this.sends),
    );
  }
}
