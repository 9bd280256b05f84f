import type { CommandStartedEvent } from 'mongodb';
import { type Collections, collectionsOf, createIndexes } from './mongo/collections.js';
import { unavailableWhenUnreachable } from './mongo/errors.js';
import { messageRepository } from './mongo/messages.js';
import { migrate } from './mongo/migrations.js';
import { roomRepository } from './mongo/rooms.js';
import { userRepository } from './mongo/users.js';
import { connectMongo } from './mongoConnection.js';
import type { Store } from './store.js';

export { eventKey, sendKey } from './mongo/documents.js';

/*
 * MongoDB adapter. It must also run on FerretDB 1.24, so it uses no multi-document
 * transactions, collations, $lookup or aggregation: only single-document atomic operations and
 * ordered multi-document inserts (which stop at the first duplicate key).
 *
 * How a room stays consistent without transactions: the room's event log is the source of
 * truth, and everything else (messages, votes, counts, the room's `seq`) is state derived from it.
 *
 * - A write is COMMITTED by inserting its event at `seq = head + 1`, where `head` is the last
 *   entry of the log. The unique index on { roomId, seq } (and the entry's `_id`, which names the
 *   room and seq) lets exactly one writer win each seq. The event is decided from the state at
 *   `head` (a vote event carries the totals after the change); since an insert at head + 1 fails
 *   when anything is logged past `head`, a writer whose insert succeeds decided from exactly the
 *   log before its entry.
 * - GROUP COMMIT: a process queues each room's writes and commits what queued while the previous
 *   batch was in flight as one ordered insert of consecutive entries, applies them with one bulk
 *   write per collection, and advances the room's `seq` once (`commitBatch`, mongo/commit.ts).
 * - A committed event is then APPLIED (message inserted, vote and counts set) and the room's
 *   `seq` advanced past it. Applying is idempotent and never moves state backwards (every
 *   derived document records the seq of the last event applied to it), so any process may apply
 *   any event, any number of times. A writer that died between committing and applying is
 *   rolled forward by the next writer, whose insert meets its entries, or by `settle`.
 *   Applying is mongo/apply.ts; what each entry does to which document, mongo/effects.ts.
 * - So `rooms.seq = h` means every event up to h is applied: a snapshot taken at h holds exactly
 *   the messages with seq <= h, and every vote event's totals are exact for its place in the log.
 *
 * Racing writers read the room document, not the log. A writer that loses the race for
 * head + 1 claims the room's next turn (mongo/turns.ts: a writer about to commit again gives
 * way to a claim) and waits, for CATCH_UP_WAIT_MS at most, until the winner has applied its
 * entries and advanced the room's `seq`; then it decides again from there. `settle` (head,
 * snapshot) looks one entry past the room's `seq` and, when there is one, waits the same way.
 * Only a writer that is slow or dead has its insert read and applied by others (`rollForward`),
 * so derived documents are written by one process at a time but after a crash: FerretDB's
 * conditional updates read, then write, and two processes applying different entries to one
 * document at once could leave the older one. An entry is found by its `_id` (`eventKey`):
 * FerretDB 1.24 hands only an `_id` equality to SQLite and decodes every document of a
 * collection to filter on anything else. Each entry records where the insert that wrote it
 * ended (`batchEnd`), so the rest of that insert is one query on { roomId, seq }. On MongoDB
 * these are index reads that start with the room, so they stay targeted when the log is sharded
 * by room.
 *
 * Entries written before group commit have an ObjectId `_id` and no `batchEnd`. They need no
 * migration: those up to the room's `seq` are applied and read only by `eventsAfter`, which
 * queries { roomId, seq }; one past it (its writer died, or an older server is still writing
 * during a rolling upgrade) makes the next insert fail on the { roomId, seq } index, and the
 * writer then finds it by that index (`readInsertAt`). Derived documents keep their shapes, so
 * older servers and this one can write the same room during a rolling upgrade.
 */

export interface MongoStoreOptions {
  /** Overrides the database named in the URL path (default 'chathub'). */
  dbName?: string;
  /** Replace the MongoClient once the database has been unreachable through it this long. */
  reconnectAfterMs?: number;
  onClientReplaced?(unreachableForMs: number): void;
  onReconnectFailed?(error: unknown): void;
  /** Sees every command the store sends (command monitoring), e.g. to check its query shapes. */
  onCommandStarted?(event: CommandStartedEvent): void;
}

const DEFAULT_DB_NAME = 'chathub';
const DEFAULT_RECONNECT_AFTER_MS = 5_000;

/** Connects, creates the indexes (idempotent, safe from several processes at once) and returns the store. */
export async function openMongoStore(url: string, options: MongoStoreOptions = {}): Promise<Store> {
  const connection = await connectMongo(url, {
    dbName: options.dbName ?? dbNameFromUrl(url) ?? DEFAULT_DB_NAME,
    replaceAfterMs: options.reconnectAfterMs ?? DEFAULT_RECONNECT_AFTER_MS,
    onReplaced: options.onClientReplaced,
    onReplaceFailed: options.onReconnectFailed,
    onCommandStarted: options.onCommandStarted,
  });
  try {
    const collections: Collections = collectionsOf(connection);
    await migrate(connection, collections);
    await createIndexes(collections);
    return {
      users: unavailableWhenUnreachable(userRepository(collections)),
      rooms: unavailableWhenUnreachable(roomRepository(collections)),
      messages: unavailableWhenUnreachable(messageRepository(collections)),
      ping: () => connection.ping(),
      close: () => connection.close(),
    };
  } catch (error) {
    await connection.close().catch(() => {});
    throw error;
  }
}

/** The database in the URL path (`mongodb://host/<db>?…`), or null when there is none. */
function dbNameFromUrl(url: string): string | null {
  const path = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(url)?.[1];
  return path ? decodeURIComponent(path) : null;
}
