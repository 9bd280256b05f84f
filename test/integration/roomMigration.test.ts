import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AS_SENT } from '../../src/contract/models.js';
import { openMongoStore } from '../../src/storage/mongo.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import { DuplicateKeyError, type RoomRecord, type Store } from '../../src/storage/store.js';

/** Rooms as an older version stored them: no owner, and names that are now the same name. */
const OLD_ROOMS = [
  { id: 'general', name: 'general', createdAt: 0 },
  { id: 'room-01', name: '日本語', createdAt: 1 },
  { id: 'room-02', name: '日本語', createdAt: 2 },
  { id: 'straße', name: 'Straße', createdAt: 3 },
  { id: 'strasse', name: 'STRASSE', createdAt: 4 },
];
const asRecords = (rooms: typeof OLD_ROOMS): RoomRecord[] =>
  rooms.map((room) => ({ ...room, owner: null }));

/** What must hold after an old database is opened by this version. */
async function expectMigrated(store: Store): Promise<void> {
  for (const room of asRecords(OLD_ROOMS))
    await expect(store.rooms.get(room.id)).resolves.toEqual(room);
  const { rooms, nextKey } = await store.rooms.list({ limit: 100 });
  expect(nextKey).toBeNull();
  // Every room is still listed; the later duplicate sorts right after the one that kept the name.
  expect(rooms.map((room) => room.id)).toEqual([
    'general',
    'straße',
    'strasse',
    'room-01',
    'room-02',
  ]);
  const { rooms: found } = await store.rooms.list({ limit: 100, namePrefix: '日本' });
  expect(found.map((room) => room.id)).toEqual(['room-01', 'room-02']);
  // And the names are taken now, for good.
  for (const name of ['日本語', 'strasse', 'General']) {
    await expect(
      store.rooms.create({ id: `new-${randomBytes(4).toString('hex')}`, name, createdAt: 9 }),
      name,
    ).rejects.toBeInstanceOf(DuplicateKeyError);
  }
  await expect(store.rooms.countOwnedBy('anyone')).resolves.toBe(0);
}

describe('SQLite: migrating rooms from before name keys and owners', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chathub-migrate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keys old rooms without failing on duplicate names, and keeps every room', async () => {
    const file = join(dir, 'old.db');
    await openSqliteStore(file).close();
    // Turn the file back into what version 1 of the schema left behind.
    const db = new Database(file);
    db.exec(UNDO_MESSAGE_CHANGES);
    db.exec(`DROP INDEX rooms_by_name_key;
             DROP INDEX rooms_by_owner;
             ALTER TABLE rooms DROP COLUMN name_key;
             ALTER TABLE rooms DROP COLUMN owner_id;
             ALTER TABLE rooms DROP COLUMN owner_name;`);
    db.pragma('user_version = 1');
    const insert = db.prepare('INSERT INTO rooms (id, name, created_at) VALUES (?, ?, ?)');
    for (const room of OLD_ROOMS) insert.run(room.id, room.name, room.createdAt);
    db.close();

    const store = openSqliteStore(file);
    try {
      await expectMigrated(store);
    } finally {
      await store.close();
    }
    const reopened = new Database(file, { readonly: true });
    expect(reopened.pragma('user_version', { simple: true })).toBe(3);
    reopened.close();
  });

  it('keeps messages stored before edits, pins and answers, and lets them change', async () => {
    const file = join(dir, 'messages.db');
    const before = openSqliteStore(file);
    const message = {
      id: '01HZZZZZZZZZZZZZZZZZZZZZZZ',
      roomId: 'general',
      author: { id: 'u1', username: 'ada' },
      body: 'from version 2',
      createdAt: 5,
      up: 0,
      down: 0,
      ...AS_SENT,
    };
    await before.rooms.ensure({ id: 'general', name: 'general', createdAt: 0 });
    await before.messages.append(message);
    await before.close();
    const db = new Database(file);
    db.exec(UNDO_MESSAGE_CHANGES);
    db.pragma('user_version = 2');
    db.close();

    const store = openSqliteStore(file);
    try {
      await expect(store.messages.get(message.id)).resolves.toEqual(message);
      await store.messages.pin(message.id, true);
      await store.messages.edit(message.id, 'edited in version 3', 6);
      await store.messages.remove(message.id, 7, 'author');
      const log = JSON.stringify(await store.messages.eventsAfter('general', 0, 10));
      expect(log).not.toContain('version');
      await expect(store.messages.snapshot('general', 10, 'u1')).resolves.toMatchObject({
        head: 4,
        messages: [{ id: message.id, body: '', removed: true, editedAt: 6 }],
        pinned: [],
      });
    } finally {
      await store.close();
    }
  });
});

/** Takes out what version 3 of the schema added (edits, removals, pins, answers, sends, reads). */
const UNDO_MESSAGE_CHANGES = `
  DROP TABLE read_marks;
  DROP INDEX events_by_body_of;
  ALTER TABLE events DROP COLUMN body_of;
  DROP INDEX messages_pinned;
  DROP INDEX messages_by_seq;
  DROP INDEX messages_by_client_id;
  ALTER TABLE messages DROP COLUMN client_message_id;
  ALTER TABLE messages DROP COLUMN answered;
  ALTER TABLE messages DROP COLUMN pin_seq;
  ALTER TABLE messages DROP COLUMN pinned;
  ALTER TABLE messages DROP COLUMN removed;
  ALTER TABLE messages DROP COLUMN edited_at;`;

describe('MongoDB: keying rooms stored before name keys and owners', () => {
  const url = inject('mongoUrl');
  const dbName = `chathub_migrate_${randomBytes(6).toString('hex')}`;
  afterAll(async () => {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it('keys old rooms before building the unique index, from several processes at once', async () => {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client
        .db(dbName)
        .collection<{ _id: string; name: string; createdAt: number; seq: number }>('rooms')
        .insertMany(
          OLD_ROOMS.map(({ id, name, createdAt }) => ({ _id: id, name, createdAt, seq: 0 })),
        );
    } finally {
      await client.close();
    }
    const stores = await Promise.all([
      openMongoStore(url, { dbName }),
      openMongoStore(url, { dbName }),
    ]);
    try {
      for (const store of stores) await expectMigrated(store);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
