import type { Collection } from 'mongodb';
import { withoutBody } from '../messageChanges.js';
import type { LoggedEntry } from '../store.js';
import type { Collections } from './collections.js';
import { eventKey, type MessageDoc, type SendDoc, type VoteDoc, voteKey } from './documents.js';
import {
  type CountsEffect,
  changesOf,
  effectsOf,
  type MessageEffect,
  SEQ_FIELD,
  type VoteEffect,
  withEffect,
} from './effects.js';
import { duplicatesIn } from './errors.js';

/** Applying committed log entries to the derived documents (messages, votes, sends). */
/**
 * Makes the derived documents reflect `entries` (in log order), then takes the body of every
 * message they remove out of the log. Idempotent.
 */
export async function apply(c: Collections, roomId: string, entries: LoggedEntry[]): Promise<void> {
  const { messages, votes, sends } = c;
  const inserts = new Map<string, MessageDoc>();
  const counts = new Map<string, CountsEffect>();
  const voteChanges = new Map<string, VoteEffect>();
  /** Edits, removals, pins and answers, in log order. */
  const changes: Exclude<MessageEffect, CountsEffect>[] = [];
  const sendDocs: SendDoc[] = [];
  const removed = new Set<string>();
  for (const entry of entries) {
    for (const effect of effectsOf(roomId, entry)) {
      switch (effect.kind) {
        case 'message':
          inserts.set(effect.doc._id, effect.doc);
          break;
        case 'send':
          sendDocs.push({ _id: effect.key, messageId: effect.messageId });
          break;
        case 'vote':
          voteChanges.set(voteKey(effect.messageId, effect.voterId), effect);
          break;
        default: {
          const doc = inserts.get(effect.messageId);
          if (doc) inserts.set(doc._id, withEffect(doc, effect));
          if (effect.kind === 'counts') counts.set(effect.messageId, effect);
          else changes.push(effect);
          if (effect.kind === 'body' && effect.removed) removed.add(effect.messageId);
        }
      }
    }
  }
  const fresh = [...inserts.values()];
  const [existing] = await Promise.all([
    fresh.length === 0
      ? []
      : duplicatesIn(messages.insertMany(fresh, { ordered: false })).then((indexes) =>
          indexes.flatMap((index) => fresh[index]?._id ?? []),
        ),
    setCounts(
      messages,
      [...counts.values()].filter((effect) => !inserts.has(effect.messageId)),
    ),
    setVotes(votes, [...voteChanges.values()]),
    sendDocs.length === 0 ? [] : duplicatesIn(sends.insertMany(sendDocs, { ordered: false })),
  ]);
  // A message another writer inserted first may hold counts and changes older than these entries'.
  const inserted = new Set(fresh.map((doc) => doc._id));
  for (const id of existing) inserted.delete(id);
  await Promise.all([
    setCounts(
      messages,
      existing.flatMap((id) => counts.get(id) ?? []),
    ),
    setChanges(
      messages,
      changes.filter((effect) => !inserted.has(effect.messageId)),
    ),
  ]);
  if (removed.size > 0) await scrub(c, roomId, [...removed]);
}

/** Applies edits, removals, pins and answers in order, each only to a message older than it. */
async function setChanges(
  messages: Collection<MessageDoc>,
  effects: Exclude<MessageEffect, CountsEffect>[],
): Promise<void> {
  if (effects.length === 0) return;
  await messages.bulkWrite(
    effects.map((effect) => {
      const field = SEQ_FIELD[effect.kind];
      const carried = effect.kind !== 'answer' && effect.carried;
      return {
        updateOne: {
          // Messages stored before these fields existed have none of the seqs yet.
          filter: {
            _id: effect.messageId,
            $or: [{ [field]: { $lt: effect.seq } }, { [field]: { $exists: false } }],
          },
          update: {
            $set: changesOf(effect),
            ...(carried ? { $addToSet: { bodySeqs: effect.seq } } : {}),
          },
        },
      };
    }),
    { ordered: true },
  );
}

/**
 * Takes the body of removed messages out of every log entry that carries it: each message's own
 * entry and those its document lists (edits, pins). Entries written before entries had keys are
 * found by { roomId, seq }.
 */
async function scrub(c: Collections, roomId: string, messageIds: string[]): Promise<void> {
  const { messages, events } = c;
  // Lookups by _id, a few per message: FerretDB reads a whole collection for anything else.
  const docs = await Promise.all(
    messageIds.map((id) => messages.findOne({ _id: id }, { projection: { seq: 1, bodySeqs: 1 } })),
  );
  const seqs = docs.flatMap((doc) => (doc ? [doc.seq, ...(doc.bodySeqs ?? [])] : []));
  const keyed = (
    await Promise.all(seqs.map((seq) => events.findOne({ _id: eventKey(roomId, seq) })))
  ).flatMap((doc) => (doc ? [doc] : []));
  const found = new Set(keyed.map((doc) => doc.seq));
  const missing = seqs.filter((seq) => !found.has(seq));
  const unkeyed =
    missing.length === 0 ? [] : await events.find({ roomId, seq: { $in: missing } }).toArray();
  const entries = [...keyed, ...unkeyed];
  if (entries.length === 0) return;
  await events.bulkWrite(
    entries.map((doc) => ({
      updateOne: {
        filter: { _id: doc._id },
        update: { $set: { payload: withoutBody(doc.payload) } },
      },
    })),
    { ordered: false },
  );
}

/** Only a document older than the change is updated, so a replay never moves counts backwards. */
async function setCounts(messages: Collection<MessageDoc>, changes: CountsEffect[]): Promise<void> {
  if (changes.length === 0) return;
  // No upsert, so no duplicate key: this only passes on what made the write fail.
  await duplicatesIn(
    messages.bulkWrite(
      changes.map(({ messageId, seq, up, down }) => ({
        updateOne: {
          filter: { _id: messageId, countsSeq: { $lt: seq } },
          update: { $set: { up, down, countsSeq: seq } },
        },
      })),
      { ordered: false },
    ),
  );
}

/**
 * Matches only a vote older than the change; when a newer one exists the upsert's insert hits
 * the unique index, and the newer vote rightly stays.
 */
async function setVotes(votes: Collection<VoteDoc>, changes: VoteEffect[]): Promise<void> {
  if (changes.length === 0) return;
  await duplicatesIn(
    votes.bulkWrite(
      changes.map(({ messageId, voterId, seq, value }) => ({
        updateOne: {
          filter: { messageId, userId: voterId, seq: { $lt: seq } },
          update: { $set: { value, seq } },
          upsert: true,
        },
      })),
      { ordered: false },
    ),
  );
}
