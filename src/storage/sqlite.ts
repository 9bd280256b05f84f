import Database from 'better-sqlite3';
import type { LoggedEvent } from '../contract/events.js';
import { LIMITS } from '../contract/limits.js';
import type { Message, MessageView } from '../contract/models.js';
import type { VoteValue } from '../contract/schemas.js';
import { roomNameKey } from '../contract/text.js';
import { STORAGE_LIMITS } from '../limits.js';
import { groupCommit, type QueuedWrite } from './groupCommit.js';
import { carriesBody, decideChange, type MessageChange, withoutBody } from './messageChanges.js';
import { keysForExistingRooms, prefixEnd } from './roomKeys.js';
import {
  type ChangeOutcome,
  DuplicateKeyError,
  DuplicateMessageError,
  type LoggedEntry,
  MessageRemovedError,
  type MessageRepository,
  type NewRoom,
  type RoomListRequest,
  RoomNotFoundError,
  type RoomRecord,
  type RoomRepository,
  type RoomSnapshot,
  type Store,
  type UserRecord,
  type UserRepository,
  type VoteOutcome,
} from './store.js';

/** A queued write: runs inside its batch's transaction and returns how to tell its caller. */
interface SqliteWrite extends QueuedWrite {
  run(): () => void;
}

/** Applied in order, each in one transaction; `PRAGMA user_version` records how many have run. */
const MIGRATIONS: (string | ((db: Database.Database) => void))[] = [
  `CREATE TABLE users (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL,
     username_key TEXT NOT NULL UNIQUE,
     password_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE rooms (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     seq INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE messages (
     id TEXT PRIMARY KEY,
     room_id TEXT NOT NULL REFERENCES rooms(id),
     seq INTEGER NOT NULL,
     author_id TEXT NOT NULL,
     author_name TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     up INTEGER NOT NULL DEFAULT 0,
     down INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX messages_by_room ON messages (room_id, id);
   CREATE TABLE votes (
     message_id TEXT NOT NULL REFERENCES messages(id),
     user_id TEXT NOT NULL,
     value INTEGER NOT NULL CHECK (value IN (-1, 1)),
     PRIMARY KEY (message_id, user_id)
   ) WITHOUT ROWID;
   CREATE TABLE events (
     room_id TEXT NOT NULL REFERENCES rooms(id),
     seq INTEGER NOT NULL,
     payload TEXT NOT NULL,
     PRIMARY KEY (room_id, seq)
   ) WITHOUT ROWID;`,
  // Room names unique by their normalized key, and who created each room (older rooms: no one).
  (db) => {
    db.exec(`ALTER TABLE rooms ADD COLUMN name_key TEXT;
             ALTER TABLE rooms ADD COLUMN owner_id TEXT;
             ALTER TABLE rooms ADD COLUMN owner_name TEXT;`);
    const rooms = db
      .prepare<[], { id: string; name: string }>(
        'SELECT id, name FROM rooms ORDER BY created_at, id',
      )
      .all();
    const setKey = db.prepare('UPDATE rooms SET name_key = ? WHERE id = ?');
    for (const [id, key] of keysForExistingRooms(rooms)) setKey.run(key, id);
    db.exec(`CREATE UNIQUE INDEX rooms_by_name_key ON rooms (name_key);
             CREATE INDEX rooms_by_owner ON rooms (owner_id);`);
  },
  // Edits, removals, pins, answers, exactly-once sends and read positions. `body_of` names the
  // message whose body an entry carries (besides the message's own entry), for removals to scrub.
  `ALTER TABLE messages ADD COLUMN edited_at INTEGER;
   ALTER TABLE messages ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN pin_seq INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN answered INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE messages ADD COLUMN client_message_id TEXT;
   CREATE UNIQUE INDEX messages_by_client_id ON messages (room_id, author_id, client_message_id)
     WHERE client_message_id IS NOT NULL;
   CREATE INDEX messages_by_seq ON messages (room_id, seq);
   CREATE INDEX messages_pinned ON messages (room_id, pin_seq) WHERE pinned = 1;
   ALTER TABLE events ADD COLUMN body_of TEXT;
   CREATE INDEX events_by_body_of ON events (body_of) WHERE body_of IS NOT NULL;
   CREATE TABLE read_marks (
     user_id TEXT NOT NULL,
     room_id TEXT NOT NULL REFERENCES rooms(id),
     seq INTEGER NOT NULL,
     PRIMARY KEY (user_id, room_id)
   ) WITHOUT ROWID;`,
];

interface MessageRow {
  id: string;
  room_id: string;
  seq: number;
  author_id: string;
  author_name: string;
  body: string;
  created_at: number;
  up: number;
  down: number;
  edited_at: number | null;
  removed: number;
  pinned: number;
  answered: number;
  client_message_id: string | null;
}

interface MessageViewRow extends MessageRow {
  my_vote: number | null;
}

const MESSAGE_COLUMNS = `m.id, m.room_id, m.seq, m.author_id, m.author_name, m.body, m.created_at,
  m.up, m.down, m.edited_at, m.removed, m.pinned, m.answered, m.client_message_id`;
const MESSAGE_VIEW_COLUMNS = `${MESSAGE_COLUMNS}, v.value AS my_vote`;

/** The embedded store: one SQLite file, so `npm start` needs nothing but Node. */
export function openSqliteStore(file: string): Store {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);

  return {
    users: userRepository(db),
    rooms: roomRepository(db),
    messages: messageRepository(db),
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  const applied = db.pragma('user_version', { simple: true }) as number;
  for (const [index, migration] of MIGRATIONS.entries()) {
    if (index < applied) continue;
    db.transaction(() => {
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
      db.pragma(`user_version = ${index + 1}`);
    })();
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
  );
}

function userRepository(db: Database.Database): UserRepository {
  const insert = db.prepare(
    `INSERT INTO users (id, username, username_key, password_hash, created_at)
     VALUES (@id, @username, @key, @passwordHash, @createdAt)`,
  );
  const byKey = db.prepare<[string], Record<string, string | number>>(
    'SELECT id, username, password_hash, created_at FROM users WHERE username_key = ?',
  );
  return {
    async create(user: UserRecord) {
      try {
        insert.run({ ...user, key: user.username.toLowerCase() });
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateKeyError('username');
        throw error;
      }
    },
    async findByUsername(username: string) {
      const row = byKey.get(username.toLowerCase());
      if (!row) return null;
      return {
        id: String(row.id),
        username: String(row.username),
        passwordHash: String(row.password_hash),
        createdAt: Number(row.created_at),
      };
    },
  };
}

interface RoomRow {
  id: string;
  name: string;
  created_at: number;
  owner_id: string | null;
  owner_name: string | null;
  name_key: string;
}

const ROOM_COLUMNS = 'id, name, created_at, owner_id, owner_name, name_key';

function toRoomRecord(row: RoomRow): RoomRecord {
  const { id, name, created_at, owner_id, owner_name } = row;
  const owner =
    owner_id !== null && owner_name !== null ? { id: owner_id, username: owner_name } : null;
  return { id, name, createdAt: created_at, owner };
}

function roomRepository(db: Database.Database): RoomRepository {
  const insert = db.prepare(
    `INSERT INTO rooms (id, name, name_key, owner_id, owner_name, created_at)
     VALUES (@id, @name, @key, @ownerId, @ownerName, @createdAt)`,
  );
  const insertIfMissing = db.prepare(
    `INSERT INTO rooms (id, name, name_key, created_at) VALUES (@id, @name, @key, @createdAt)
     ON CONFLICT (id) DO NOTHING`,
  );
  const byId = db.prepare<[string], RoomRow>(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE id = ?`);
  type PageParams = { after: string; limit: number; prefix?: string; end?: string };
  // Two statements, so that both bounds of a search are index ranges and a page costs its size.
  const page = db.prepare<[PageParams], RoomRow>(
    `SELECT ${ROOM_COLUMNS} FROM rooms WHERE name_key > @after ORDER BY name_key LIMIT @limit`,
  );
  const searchPage = db.prepare<[PageParams], RoomRow>(
    `SELECT ${ROOM_COLUMNS} FROM rooms
     WHERE name_key > @after AND name_key >= @prefix AND name_key < @end
     ORDER BY name_key LIMIT @limit`,
  );
  const ownedBy = db.prepare<[string], { count: number }>(
    'SELECT count(*) AS count FROM rooms WHERE owner_id = ?',
  );
  return {
    async create(room: NewRoom) {
      try {
        insert.run({
          id: room.id,
          name: room.name,
          key: roomNameKey(room.name),
          ownerId: room.owner?.id ?? null,
          ownerName: room.owner?.username ?? null,
          createdAt: room.createdAt,
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateKeyError('room');
        throw error;
      }
    },
    async ensure(room: NewRoom) {
      insertIfMissing.run({ ...room, key: roomNameKey(room.name) });
    },
    async get(id: string) {
      const row = byId.get(id);
      return row ? toRoomRecord(row) : null;
    },
    async list({ afterKey = '', limit, namePrefix }: RoomListRequest) {
      const prefix = namePrefix === undefined ? '' : roomNameKey(namePrefix);
      // One row past the page tells whether another page follows.
      const params = { after: afterKey, limit: limit + 1 };
      const rows = prefix
        ? searchPage.all({ ...params, prefix, end: prefixEnd(prefix) })
        : page.all(params);
      const shown = rows.slice(0, limit);
      return {
        rooms: shown.map(toRoomRecord),
        nextKey: rows.length > limit ? (shown.at(-1)?.name_key ?? null) : null,
      };
    },
    async countOwnedBy(userId: string) {
      return ownedBy.get(userId)?.count ?? 0;
    },
  };
}

function messageRepository(db: Database.Database): MessageRepository {
  const nextSeq = db.prepare<[string], { seq: number }>(
    'UPDATE rooms SET seq = seq + 1 WHERE id = ? RETURNING seq',
  );
  const headSeq = db.prepare<[string], { seq: number }>('SELECT seq FROM rooms WHERE id = ?');
  const insertMessage = db.prepare(
    `INSERT INTO messages
       (id, room_id, seq, author_id, author_name, body, created_at, client_message_id)
     VALUES (@id, @roomId, @seq, @authorId, @authorName, @body, @createdAt, @clientMessageId)`,
  );
  const insertEvent = db.prepare(
    'INSERT INTO events (room_id, seq, payload, body_of) VALUES (?, ?, ?, ?)',
  );
  const messageById = db.prepare<[string], MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?`,
  );
  const sentBefore = db.prepare<[string, string, string], MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages m
     WHERE m.room_id = ? AND m.author_id = ? AND m.client_message_id = ?`,
  );
  const writeChange = db.prepare<{
    id: string;
    body: string;
    editedAt: number | null;
    removed: number;
    pinned: number;
    answered: number;
    pinSeq: number | null;
  }>(
    `UPDATE messages SET body = @body, edited_at = @editedAt, removed = @removed,
       pinned = @pinned, answered = @answered, pin_seq = coalesce(@pinSeq, pin_seq)
     WHERE id = @id`,
  );
  const entriesWithBody = db.prepare<
    { roomId: string; seq: number; messageId: string },
    { seq: number; payload: string }
  >(
    `SELECT seq, payload FROM events
     WHERE room_id = @roomId AND (seq = @seq OR body_of = @messageId)`,
  );
  const rewriteEntry = db.prepare('UPDATE events SET payload = ? WHERE room_id = ? AND seq = ?');
  const messageForVote = db.prepare<
    [{ messageId: string; userId: string }],
    { room_id: string; removed: number; previous: number | null }
  >(
    `SELECT m.room_id, m.removed, v.value AS previous FROM messages m
     LEFT JOIN votes v ON v.message_id = m.id AND v.user_id = @userId
     WHERE m.id = @messageId`,
  );
  const upsertVote = db.prepare(
    `INSERT INTO votes (message_id, user_id, value) VALUES (?, ?, ?)
     ON CONFLICT (message_id, user_id) DO UPDATE SET value = excluded.value`,
  );
  const deleteVote = db.prepare('DELETE FROM votes WHERE message_id = ? AND user_id = ?');
  const applyCounts = db.prepare<[number, number, string], { up: number; down: number }>(
    'UPDATE messages SET up = up + ?, down = down + ? WHERE id = ? RETURNING up, down',
  );
  const counts = db.prepare<[string], { up: number; down: number }>(
    'SELECT up, down FROM messages WHERE id = ?',
  );
  type PageParams = { roomId: string; viewerId: string; before: string | null; limit: number };
  const pageQuery = db.prepare<[PageParams], MessageViewRow>(
    `SELECT ${MESSAGE_VIEW_COLUMNS} FROM messages m
     LEFT JOIN votes v ON v.message_id = m.id AND v.user_id = @viewerId
     WHERE m.room_id = @roomId AND (@before IS NULL OR m.id < @before)
     ORDER BY m.id DESC LIMIT @limit`,
  );
  /** Newest first, one row past `limit` so the caller can tell whether more exist. */
  const newestFirst = (roomId: string, viewerId: string, before: string | null, limit: number) =>
    pageQuery.all({ roomId, viewerId, before, limit: limit + 1 });
  const pinnedQuery = db.prepare<
    [{ roomId: string; viewerId: string; limit: number }],
    MessageViewRow
  >(
    `SELECT ${MESSAGE_VIEW_COLUMNS} FROM messages m
     LEFT JOIN votes v ON v.message_id = m.id AND v.user_id = @viewerId
     WHERE m.room_id = @roomId AND m.pinned = 1
     ORDER BY m.pin_seq DESC LIMIT @limit`,
  );
  const eventsAfter = db.prepare<[string, number, number], { seq: number; payload: string }>(
    'SELECT seq, payload FROM events WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  const markRead = db.prepare<{ userId: string; roomId: string; seq: number }>(
    `INSERT INTO read_marks (user_id, room_id, seq)
     SELECT @userId, id, min(@seq, seq) FROM rooms WHERE id = @roomId
     ON CONFLICT (user_id, room_id) DO UPDATE SET seq = max(seq, excluded.seq)`,
  );
  const unread = db.prepare<{ userId: string; roomId: string; max: number }, { count: number }>(
    `SELECT count(*) AS count FROM (
       SELECT 1 FROM messages
       WHERE room_id = @roomId AND removed = 0 AND author_id != @userId
         AND seq > coalesce(
           (SELECT seq FROM read_marks WHERE user_id = @userId AND room_id = @roomId), 0)
       LIMIT @max)`,
  );

  const log = (roomId: string, event: LoggedEvent): LoggedEntry => {
    const next = nextSeq.get(roomId);
    if (!next) throw new RoomNotFoundError(roomId);
    const bodyOf = event.type !== 'message' && carriesBody(event) ? event.messageId : null;
    insertEvent.run(roomId, next.seq, JSON.stringify(event), bodyOf);
    return { seq: next.seq, event };
  };

  const append = db.transaction((message: Message): LoggedEntry => {
    if (message.clientMessageId !== null) {
      const original = sentBefore.get(message.roomId, message.author.id, message.clientMessageId);
      if (original) throw new DuplicateMessageError(toMessage(original));
    }
    const entry = log(message.roomId, { type: 'message', message });
    insertMessage.run({
      id: message.id,
      roomId: message.roomId,
      seq: entry.seq,
      authorId: message.author.id,
      authorName: message.author.username,
      body: message.body,
      createdAt: message.createdAt,
      clientMessageId: message.clientMessageId,
    });
    return entry;
  });

  /** Takes a removed message's body out of every entry that carried it. */
  const scrub = (row: MessageRow) => {
    for (const entry of entriesWithBody.all({
      roomId: row.room_id,
      seq: row.seq,
      messageId: row.id,
    })) {
      const event = JSON.parse(entry.payload) as LoggedEvent;
      rewriteEntry.run(JSON.stringify(withoutBody(event)), row.room_id, entry.seq);
    }
  };

  const change = db.transaction(
    (messageId: string, requested: MessageChange): ChangeOutcome | null => {
      const row = messageById.get(messageId);
      if (!row) return null;
      const before = toMessage(row);
      const decided = decideChange(before, requested);
      if (!decided) return { message: before, entry: null };
      const entry = log(row.room_id, decided.event);
      const { after } = decided;
      writeChange.run({
        id: messageId,
        body: after.body,
        editedAt: after.editedAt,
        removed: Number(after.removed),
        pinned: Number(after.pinned),
        answered: Number(after.answered),
        pinSeq: after.pinned === before.pinned ? null : entry.seq,
      });
      if (after.removed) scrub(row);
      return { message: after, entry };
    },
  );

  const vote = db.transaction(
    (messageId: string, userId: string, value: VoteValue): VoteOutcome | null => {
      const found = messageForVote.get({ messageId, userId });
      if (!found) return null;
      if (found.removed) throw new MessageRemovedError(messageId);
      const previous = found.previous ?? 0;
      const next = value === 'up' ? 1 : value === 'down' ? -1 : 0;
      if (previous === next) {
        const current = counts.get(messageId) ?? { up: 0, down: 0 };
        return { roomId: found.room_id, ...current, entry: null };
      }
      if (next === 0) deleteVote.run(messageId, userId);
      else upsertVote.run(messageId, userId, next);
      const updated = applyCounts.get(
        Number(next === 1) - Number(previous === 1),
        Number(next === -1) - Number(previous === -1),
        messageId,
      );
      if (!updated) throw new Error(`message ${messageId} vanished during a vote`);
      const entry = log(found.room_id, {
        type: 'vote',
        messageId,
        up: updated.up,
        down: updated.down,
        voterId: userId,
        vote: value,
      });
      return { roomId: found.room_id, ...updated, entry };
    },
  );

  /**
   * Group commit: every write queued in one turn of the event loop, whatever its room, commits in
   * one transaction (SQLite has one writer anyway), in arrival order. Each write runs in its own
   * savepoint (`append` and `vote` are transactions, nested here), so one that throws is rolled
   * back and fails alone.
   */
  const runBatch = db.transaction((batch: SqliteWrite[]) =>
    batch.map((write) => {
      try {
        return write.run();
      } catch (error) {
        return () => write.fail(error);
      }
    }),
  );
  const enqueue = groupCommit<SqliteWrite>(
    async (_anyRoom, batch) => {
      for (const reply of runBatch(batch)) reply();
    },
    { maxBatch: STORAGE_LIMITS.commitBatchMax, schedule: setImmediate },
  );
  const submit = <T>(run: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) =>
      enqueue('', {
        run: () => {
          const outcome = run();
          return () => resolve(outcome);
        },
        fail: reject,
      }),
    );

  const snapshot = db.transaction((roomId: string, limit: number, viewerId: string) => {
    const head = headSeq.get(roomId)?.seq ?? 0;
    const pinned = pinnedQuery.all({ roomId, viewerId, limit: LIMITS.pinnedMax });
    return {
      head,
      ...toPage(newestFirst(roomId, viewerId, null, limit), limit),
      pinned: pinned.map(toMessageView),
    };
  });

  return {
    append(message) {
      return submit(() => append(message));
    },
    vote(messageId, userId, value) {
      return submit(() => vote(messageId, userId, value));
    },
    async get(messageId) {
      const row = messageById.get(messageId);
      return row ? toMessage(row) : null;
    },
    edit(messageId, body, editedAt) {
      return submit(() => change(messageId, { type: 'edit', body, editedAt }));
    },
    remove(messageId, removedAt, by) {
      return submit(() => change(messageId, { type: 'remove', removedAt, by }));
    },
    pin(messageId, pinned) {
      return submit(() => change(messageId, { type: 'pin', pinned }));
    },
    answer(messageId, answered) {
      return submit(() => change(messageId, { type: 'answer', answered }));
    },
    async markRead(userId, roomId, seq) {
      if (markRead.run({ userId, roomId, seq }).changes === 0) throw new RoomNotFoundError(roomId);
    },
    async unread(userId, roomIds, max) {
      return new Map(
        roomIds.map((roomId) => [roomId, unread.get({ userId, roomId, max })?.count ?? 0]),
      );
    },
    async snapshot(roomId, limit, viewerId): Promise<RoomSnapshot> {
      return snapshot(roomId, limit, viewerId);
    },
    async page(roomId, before, limit, viewerId) {
      return toPage(newestFirst(roomId, viewerId, before ?? null, limit), limit);
    },
    async head(roomId) {
      return headSeq.get(roomId)?.seq ?? 0;
    },
    async eventsAfter(roomId, seq, limit) {
      return eventsAfter.all(roomId, seq, limit).map((row) => ({
        seq: row.seq,
        event: JSON.parse(row.payload) as LoggedEvent,
      }));
    },
  };
}

function toPage(
  rows: MessageViewRow[],
  limit: number,
): { messages: MessageView[]; hasMore: boolean } {
  return {
    messages: rows.slice(0, limit).reverse().map(toMessageView),
    hasMore: rows.length > limit,
  };
}

function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    roomId: row.room_id,
    author: { id: row.author_id, username: row.author_name },
    body: row.body,
    createdAt: row.created_at,
    up: row.up,
    down: row.down,
    editedAt: row.edited_at,
    removed: row.removed === 1,
    pinned: row.pinned === 1,
    answered: row.answered === 1,
    clientMessageId: row.client_message_id,
  };
}

function toMessageView(row: MessageViewRow): MessageView {
  return {
    ...toMessage(row),
    myVote: row.my_vote === 1 ? 'up' : row.my_vote === -1 ? 'down' : null,
  };
}
