import type { Collection } from 'mongodb';
import { MAX_BATCH } from '../groupCommit.js';
import type { LoggedEntry } from '../store.js';
import { type EventDoc, eventKey } from './documents.js';
import { failureOf, firstDuplicateIn } from './errors.js';

/** Each room's event log: the source of truth, one document per entry. */

export interface StoredEntry extends LoggedEntry {
  /** Where the insert that wrote this entry ended. */
  batchEnd: number;
}

function toEntry(doc: EventDoc): StoredEntry {
  return { seq: doc.seq, event: doc.payload, batchEnd: doc.batchEnd ?? doc.seq };
}

/** Inserts consecutive entries in order; returns how many went in before a seq already taken. */
export async function insertEntries(
  events: Collection<EventDoc>,
  roomId: string,
  entries: LoggedEntry[],
): Promise<number> {
  const batchEnd = entries.at(-1)?.seq;
  const docs = entries.map(({ seq, event }) => ({
    _id: eventKey(roomId, seq),
    roomId,
    seq,
    payload: event,
    batchEnd,
  }));
  try {
    await events.insertMany(docs, { ordered: true });
    return entries.length;
  } catch (error) {
    const taken = firstDuplicateIn(error);
    if (taken !== null) return taken;
    throw failureOf(error);
  }
}

export async function readEntry(
  events: Collection<EventDoc>,
  roomId: string,
  seq: number,
): Promise<StoredEntry | null> {
  const doc = await events.findOne({ _id: eventKey(roomId, seq) });
  return doc && toEntry(doc);
}

/**
 * The entries logged from `seq` on by the insert that wrote `seq`, oldest first: [] when nothing
 * is logged at `seq`. The first is looked up by key; its writer recorded where that insert
 * ended, and any others are read with one query on { roomId, seq }. `taken`: an insert at `seq`
 * just failed, so an entry is there, perhaps one written before entries had keys.
 */
export async function readInsertAt(
  events: Collection<EventDoc>,
  roomId: string,
  seq: number,
  taken: boolean,
): Promise<LoggedEntry[]> {
  let first = await readEntry(events, roomId, seq);
  if (!first && taken) {
    const unkeyed = await events.findOne({ roomId, seq });
    if (!unkeyed) throw new Error(`room ${roomId}: entry ${seq} is taken but cannot be read`);
    first = toEntry(unkeyed);
  }
  if (!first) return [];
  const entries: LoggedEntry[] = [first];
  const last = Math.min(first.batchEnd, seq + MAX_BATCH - 1);
  if (last === seq) return entries;
  const rest = await events
    .find({ roomId, seq: { $gt: seq, $lte: last } })
    .sort({ seq: 1 })
    .toArray();
  for (const doc of rest) {
    // A writer that lost part of its insert to another leaves a shorter run than it recorded.
    if (doc.seq !== seq + entries.length) break;
    entries.push(toEntry(doc));
  }
  return entries;
}

/** Log entries after `seq`, oldest first, at most `limit`. */
export async function entriesAfter(
  events: Collection<EventDoc>,
  roomId: string,
  seq: number,
  limit: number,
): Promise<LoggedEntry[]> {
  const docs = await events
    .find({ roomId, seq: { $gt: seq } })
    .sort({ seq: 1 })
    .limit(limit)
    .toArray();
  return docs.map((doc) => ({ seq: doc.seq, event: doc.payload }));
}
