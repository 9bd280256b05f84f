import type { Collection } from 'mongodb';
import { withoutBody } from '../messageChanges.js';
import type { LoggedEntry } from '../store.js';
import type { Collections } from './collections.js';
import {
  eventKey,
  type MessageDoc,
  type MessageRoomDoc,
  type SendDoc,
  type VoteDoc,
  voteKey,
} from './documents.js';
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

/** Edits, removals, pins and answers: the message effects besides counts. */
type ChangeEffect = Exclude<MessageEffect, CountsEffect>;

/**
 * Makes the derived documents (messages and where they are, votes, sends) reflect `entries`, one
 * room's in log order, then takes the body of every message they remove out of the log.
 * Idempotent. Every write names the room: in the document, its key, or its filter.
 */
export async function apply(c: Collections, roomId: string, entries: LoggedEntry[]): Promise<void> {
  const { messages, messageRooms, votes, sends } = c;
  const inserts = new Map<string, MessageDoc>();
  const counts = new Map<string, CountsEffect>();
  const voteChanges = new Map<string, VoteEffect>();
  /** In log order. */
  const changes: ChangeEffect[] = [];
  const sendDocs: SendDoc[] = [];
  const removed = new Set<string>();
  for (const entry of entries) {
    for (const effect of effectsOf(roomId, entry)) {
      switch (effect.kind) {
        case 'message':
          inserts.set(effect.doc._id, effect.doc);
          break;
        case 'send':
          sendDocs.push({ _id: effect.key, roomId, messageId: effect.messageId });
          break;
        case 'vote':
          voteChanges.set(voteKey(roomId, effect.messageId, effect.voterId), effect);
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
  const located: MessageRoomDoc[] = fresh.map((doc) => ({ _id: doc._id, roomId }));
  const [existing] = await Promise.all([
    fresh.length === 0
      ? []
      : duplicatesIn(messages.insertMany(fresh, { ordered: false })).then((indexes) =>
          indexes.flatMap((index) => fresh[index]?._id ?? []),
        ),
    located.length === 0 ? [] : duplicatesIn(messageRooms.insertMany(located, { ordered: false })),
    setCounts(
      messages,
      roomId,
      [...counts.values()].filter((effect) => !inserts.has(effect.messageId)),
    ),
    setVotes(votes, roomId, [...voteChanges.values()]),
    sendDocs.length === 0 ? [] : duplicatesIn(sends.insertMany(sendDocs, { ordered: false })),
  ]);
  // A message another writer inserted first may hold counts and changes older than these entries'.
  const inserted = new Set(fresh.map((doc) => doc._id));
  for (const id of existing) inserted.delete(id);
  await Promise.all([
    setCounts(
      messages,
      roomId,
      existing.flatMap((id) => counts.get(id) ?? []),
    ),
    setChanges(
      messages,
      roomId,
      changes.filter((effect) => !inserted.has(effect.messageId)),
    ),
  ]);
  if (removed.size > 0) await scrub(c, roomId, [...removed]);
}

/** Applies edits, removals, pins and answers in order, each only to a message older than it. */
async function setChanges(
  messages: Collection<MessageDoc>,
  roomId: string,
  effects: ChangeEffect[],
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
            roomId,
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
 * entry and those its document lists (edits, pins).
 */
async function scrub(c: Collections, roomId: string, messageIds: string[]): Promise<void> {
  const { messages, events } = c;
  const docs = await messages
    .find({ roomId, _id: { $in: messageIds } }, { projection: { seq: 1, bodySeqs: 1 } })
    .toArray();
  const seqs = docs.flatMap((doc) => [doc.seq, ...(doc.bodySeqs ?? [])]);
  // A lookup by key each (a removal has a few): FerretDB reads a whole collection for anything else.
  const entries = (
    await Promise.all(seqs.map((seq) => events.findOne({ _id: eventKey(roomId, seq) })))
  ).flatMap((doc) => (doc ? [doc] : []));
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
async function setCounts(
  messages: Collection<MessageDoc>,
  roomId: string,
  changes: CountsEffect[],
): Promise<void> {
  if (changes.length === 0) return;
  // No upsert, so no duplicate key: this only passes on what made the write fail.
  await duplicatesIn(
    messages.bulkWrite(
      changes.map(({ messageId, seq, up, down }) => ({
        updateOne: {
          filter: { roomId, _id: messageId, countsSeq: { $lt: seq } },
          update: { $set: { up, down, countsSeq: seq } },
        },
      })),
      { ordered: false },
    ),
  );
}

/**
 * Matches only a vote older than the change; when a newer one exists the upsert's insert meets
 * its key, and the newer vote rightly stays.
 */
async function setVotes(
  votes: Collection<VoteDoc>,
  roomId: string,
  changes: VoteEffect[],
): Promise<void> {
  if (changes.length === 0) return;
  await duplicatesIn(
    votes.bulkWrite(
      changes.map(({ messageId, voterId, seq, value }) => ({
        updateOne: {
          filter: { _id: voteKey(roomId, messageId, voterId), seq: { $lt: seq } },
          update: { $set: { value, seq }, $setOnInsert: { roomId, messageId, userId: voterId } },
          upsert: true,
        },
      })),
      { ordered: false },
    ),
  );
}
