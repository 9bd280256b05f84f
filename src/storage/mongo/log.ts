import type { Collection } from 'mongodb';
import { STORAGE_LIMITS } from '../../limits.js';
import type { LoggedEntry } from '../store.js';
import { type EventDoc, eventKey, MAX_SEQ } from './documents.js';
import { failureOf, firstDuplicateIn } from './errors.js';

/**
 * Each room's event log: the source of truth, one document per entry, keyed `<roomId>/<seq>`.
 * Every read is by key or by a range of one room's keys.
 */

export interface StoredEntry extends LoggedEntry {
  /** Where the insert that wrote this entry ended. */
  batchEnd: number;
}

function toEntry(doc: EventDoc): StoredEntry {
  return { seq: doc.seq, event: doc.payload, batchEnd: doc.batchEnd };
}

/** The room's entries with `after < seq <= through`, oldest first. */
function range(events: Collection<EventDoc>, roomId: string, after: number, through: number) {
  return events
    .find({ _id: { $gt: eventKey(roomId, after), $lte: eventKey(roomId, through) } })
    .sort({ _id: 1 });
}

/** Inserts consecutive entries in order; returns how many went in before a seq already taken. */
export async function insertEntries(
  events: Collection<EventDoc>,
  roomId: string,
  entries: LoggedEntry[],
): Promise<number> {
  const batchEnd = entries.at(-1)?.seq ?? 0;
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
 * ended, and any others are read as one range.
 */
export async function readInsertAt(
  events: Collection<EventDoc>,
  roomId: string,
  seq: number,
): Promise<LoggedEntry[]> {
  const first = await readEntry(events, roomId, seq);
  if (!first) return [];
  const entries: LoggedEntry[] = [first];
  const last = Math.min(first.batchEnd, seq + STORAGE_LIMITS.commitBatchMax - 1);
  if (last === seq) return entries;
  const rest = await range(events, roomId, seq, last).toArray();
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
  // The log has no gaps, so the next `limit` entries are those up to seq + limit.
  const docs = await range(events, roomId, seq, Math.min(seq + limit, MAX_SEQ)).toArray();
  return docs.map((doc) => ({ seq: doc.seq, event: doc.payload }));
}
