import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoteEvent } from '../../src/contract/events.js';
import { AS_SENT, type Message, type MessageView } from '../../src/contract/models.js';
import type { VoteValue } from '../../src/contract/schemas.js';
import { roomNameKey } from '../../src/contract/text.js';
import { createUlidFactory } from '../../src/domain/ids.js';
import {
  DuplicateKeyError,
  type LoggedEntry,
  type RoomListPage,
  type RoomListRequest,
  RoomNotFoundError,
  type RoomRecord,
  type Store,
} from '../../src/storage/store.js';
import { describeMessageChangesContract } from './messageChanges.contract.js';

export interface StoreContractOptions {
  /**
   * Whether the store keeps its data across `close()`; true (the default) registers the
   * "survives close and reopen" test. Every store adapter we ship is durable.
   */
  durable?: boolean;
}

/**
 * The behaviour every {@link Store} adapter must have. Run it from one test file per adapter:
 *
 * ```ts
 * describeStoreContract('sqlite', async () => openSqliteStore(file));
 * ```
 *
 * `open` is called several times: once for the store most tests share, and again by the
 * durability test, which closes the store it opened and calls `open` once more. Every call must
 * return a store over the SAME data (same file, same database), so what one store wrote the next
 * one reads. The data need not be empty: every test uses its own usernames, room ids and
 * message ids, so several runs (or several adapters) may share one database.
 */
export function describeStoreContract(
  name: string,
  open: () => Promise<Store>,
  options: StoreContractOptions = {},
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    // Unique per run, so a persistent database shared by several runs never collides.
    const runTag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    let counter = 0;
    const unique = (prefix: string) => `${prefix}-${runTag}-${++counter}`;
    const ulid = createUlidFactory();
    const author = { id: 'author-1', username: 'author' };

    const newRoom = async (): Promise<string> => {
      const id = unique('room');
      await store.rooms.create({ id, name: id, createdAt: Date.now() });
      return id;
    };
    const newMessage = (roomId: string, body = 'hello', patch: Partial<Message> = {}): Message => ({
      id: ulid(),
      roomId,
      author,
      body,
      createdAt: Date.now(),
      up: 0,
      down: 0,
      ...AS_SENT,
      ...patch,
    });
    /** Appends `count` messages one after another; returns them with their entries. */
    const appendMany = async (roomId: string, count: number) => {
      const out: { message: Message; entry: LoggedEntry }[] = [];
      for (let i = 0; i < count; i++) {
        const message = newMessage(roomId, `message ${i}`);
        out.push({ message, entry: await store.messages.append(message) });
      }
      return out;
    };
    const view = (message: Message, patch: Partial<MessageView> = {}): MessageView => ({
      ...message,
      myVote: null,
      ...patch,
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describe('users', () => {
      it('creates a user and finds it by username, ignoring case', async () => {
        const username = unique('Alice');
        const user = { id: ulid(), username, passwordHash: '$argon2id$fake', createdAt: 1234 };
        await store.users.create(user);
        await expect(store.users.findByUsername(username)).resolves.toEqual(user);
        await expect(store.users.findByUsername(username.toUpperCase())).resolves.toEqual(user);
        await expect(store.users.findByUsername(username.toLowerCase())).resolves.toEqual(user);
      });

      it('returns null for an unknown username', async () => {
        await expect(store.users.findByUsername(unique('nobody'))).resolves.toBeNull();
      });

      it('rejects a username that differs only in case with DuplicateKeyError', async () => {
        const username = unique('Bob');
        const first = { id: ulid(), username, passwordHash: 'h1', createdAt: 1 };
        await store.users.create(first);
        await expect(
          store.users.create({
            id: ulid(),
            username: username.toUpperCase(),
            passwordHash: 'h2',
            createdAt: 2,
          }),
        ).rejects.toBeInstanceOf(DuplicateKeyError);
        await expect(
          store.users.create({ id: ulid(), username, passwordHash: 'h3', createdAt: 3 }),
        ).rejects.toBeInstanceOf(DuplicateKeyError);
        // The first user is untouched.
        await expect(store.users.findByUsername(username.toLowerCase())).resolves.toEqual(first);
      });

      it('lets exactly one of several concurrent sign-ups with the same name win', async () => {
        const username = unique('Carol');
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            store.users.create({
              id: ulid(),
              username: i % 2 ? username.toUpperCase() : username,
              passwordHash: `h${i}`,
              createdAt: i,
            }),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const result of results) {
          if (result.status === 'rejected') {
            expect(result.reason).toBeInstanceOf(DuplicateKeyError);
          }
        }
      });
    });

    /** A room record as `get` returns it; names carry the run tag, since names are unique. */
    const roomRecord = (prefix: string, patch: Partial<RoomRecord> = {}): RoomRecord => {
      const id = unique(prefix);
      return { id, name: `Room ${id}`, createdAt: 1000, owner: null, ...patch };
    };
    /** Every page of `request` from the first on, checking each against the limit. */
    const allPages = async (request: Omit<RoomListRequest, 'afterKey'>) => {
      const pages: RoomListPage[] = [];
      let afterKey: string | undefined;
      do {
        const page = await store.rooms.list({ ...request, afterKey });
        expect(page.rooms.length).toBeLessThanOrEqual(request.limit);
        if (page.nextKey !== null) expect(page.rooms).toHaveLength(request.limit);
        pages.push(page);
        afterKey = page.nextKey ?? undefined;
      } while (afterKey !== undefined && pages.length < 10_000);
      return { pages, rooms: pages.flatMap((page) => page.rooms) };
    };
    /** Keys in code point order, as both stores compare them (UTF-8 bytes). */
    const inKeyOrder = (names: string[]) =>
      names.map(roomNameKey).every((key, i, keys) => {
        const previous = keys[i - 1];
        return (
          previous === undefined || Buffer.compare(Buffer.from(previous), Buffer.from(key)) < 0
        );
      });

    describe('rooms', () => {
      const owner = { id: 'owner-1', username: 'Owner' };
      it('creates and gets rooms, with their owner when a user made them', async () => {
        const mine = roomRecord('room-a', { owner });
        const nobodys = roomRecord('room-b', { createdAt: 2000 });
        await store.rooms.create(mine);
        await store.rooms.create({ id: nobodys.id, name: nobodys.name, createdAt: 2000 });
        await expect(store.rooms.get(mine.id)).resolves.toEqual(mine);
        await expect(store.rooms.get(nobodys.id)).resolves.toEqual(nobodys);
        const { rooms } = await store.rooms.list({
          limit: 10,
          namePrefix: `Room room-a-${runTag}`,
        });
        expect(rooms).toEqual([mine]);
      });

      it('returns null for an unknown room', async () => {
        await expect(store.rooms.get(unique('missing'))).resolves.toBeNull();
      });

      it('rejects a duplicate room id with DuplicateKeyError and keeps the first', async () => {
        const room = roomRecord('dup');
        await store.rooms.create(room);
        await expect(
          store.rooms.create({ ...room, name: `${room.name} second`, createdAt: 2 }),
        ).rejects.toBeInstanceOf(DuplicateKeyError);
        await expect(store.rooms.get(room.id)).resolves.toEqual(room);
      });

      it('rejects a name that is the same after normalization, in any script', async () => {
        const tag = unique('same');
        const pairs = [
          [`日本語 ${tag}`, `日本語 ${tag}`],
          [`Straße ${tag}`, `  STRASSE   ${tag.toUpperCase()} `],
          [`Café ${tag}`, `Cafe\u0301 ${tag}`],
          [`ｆｕｌｌ ${tag}`, `Full ${tag}`],
          [`Σίσυφος ${tag}`, `ΣΊΣΥΦΟΣ ${tag}`],
          [`zero${tag}`, `zero\u200b${tag}`],
        ];
        for (const [first, second] of pairs) {
          const kept = roomRecord('key', { name: first });
          await store.rooms.create(kept);
          await expect(
            store.rooms.create({ ...roomRecord('key'), name: second ?? '' }),
            `${second} after ${first}`,
          ).rejects.toBeInstanceOf(DuplicateKeyError);
          await expect(store.rooms.get(kept.id)).resolves.toEqual(kept);
        }
      });

      it('lets exactly one of several concurrent creations of one name win', async () => {
        const name = `Race ${unique('race')}`;
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) =>
            store.rooms.create({ ...roomRecord('race'), name: i % 2 ? name.toUpperCase() : name }),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const result of results) {
          if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(DuplicateKeyError);
        }
      });

      it('counts the rooms each user created', async () => {
        const ada = { id: unique('ada'), username: 'ada' };
        const bob = { id: unique('bob'), username: 'bob' };
        await expect(store.rooms.countOwnedBy(ada.id)).resolves.toBe(0);
        for (let i = 0; i < 3; i++)
          await store.rooms.create(roomRecord('ada-room', { owner: ada }));
        await store.rooms.create(roomRecord('bob-room', { owner: bob }));
        await store.rooms.create(roomRecord('no-ones-room'));
        await expect(store.rooms.countOwnedBy(ada.id)).resolves.toBe(3);
        await expect(store.rooms.countOwnedBy(bob.id)).resolves.toBe(1);
      });

      it('filters by the start of the name, ignoring case and width', async () => {
        const tag = unique('find');
        const wide = (text: string) =>
          text.replace(/[!-~]/g, (char) => String.fromCharCode(char.charCodeAt(0) + 0xfee0));
        const club = roomRecord('find', { name: `${tag} Straße Club` });
        const fans = roomRecord('find', { name: `${tag} STRASSE fans` });
        const other = roomRecord('find', { name: `${tag} Other` });
        for (const room of [club, fans, other]) await store.rooms.create(room);
        const found = async (namePrefix: string) =>
          (await store.rooms.list({ limit: 10, namePrefix })).rooms.map((room) => room.id);

        expect(await found(`${tag} strasse`)).toEqual([club.id, fans.id]);
        expect(await found(wide(`${tag.toUpperCase()} STRASSE C`))).toEqual([club.id]);
        expect(await found(`${tag}   straße  f`)).toEqual([fans.id]);
        expect(await found(`${tag} o`)).toEqual([other.id]);
        expect(await found(`${tag} nothing`)).toEqual([]);
        // A search starts from its first match even after a cursor from elsewhere.
        const afterFans = await store.rooms.list({
          limit: 10,
          namePrefix: tag,
          afterKey: roomNameKey(fans.name),
        });
        expect(afterFans).toEqual({ rooms: [], nextKey: null });
      });

      it('ensure creates a missing room, is idempotent and never overwrites', async () => {
        const room = roomRecord('ensured', { createdAt: 5 });
        const { owner: _none, ...plain } = room;
        await store.rooms.ensure(plain);
        await store.rooms.ensure(plain);
        await Promise.all([store.rooms.ensure(plain), store.rooms.ensure(plain)]);
        await store.messages.append(newMessage(room.id));
        await store.rooms.ensure({ ...plain, name: `${plain.name} changed`, createdAt: 6 });
        await expect(store.rooms.get(room.id)).resolves.toEqual(room);
        // The room's log is untouched too.
        await expect(store.messages.head(room.id)).resolves.toBe(1);
        const { rooms } = await store.rooms.list({ limit: 10, namePrefix: room.name });
        expect(rooms).toEqual([room]);
      });

      it('ensure accepts a room that create made', async () => {
        const room = roomRecord('created', { owner });
        await store.rooms.create(room);
        await expect(store.rooms.ensure(room)).resolves.toBeUndefined();
        await expect(store.rooms.get(room.id)).resolves.toEqual(room);
      });
    });

    describe('message log', () => {
      it('starts a room at head 0 with an empty snapshot', async () => {
        const roomId = await newRoom();
        await expect(store.messages.head(roomId)).resolves.toBe(0);
        await expect(store.messages.snapshot(roomId, 10, 'viewer')).resolves.toEqual({
          head: 0,
          messages: [],
          hasMore: false,
          pinned: [],
        });
        await expect(store.messages.eventsAfter(roomId, 0, 10)).resolves.toEqual([]);
      });

      it('numbers appended messages 1, 2, 3… per room, independently', async () => {
        const roomA = await newRoom();
        const roomB = await newRoom();
        const seqs: Record<string, number[]> = { [roomA]: [], [roomB]: [] };
        for (const roomId of [roomA, roomB, roomA, roomA, roomB, roomA]) {
          const message = newMessage(roomId);
          const entry = await store.messages.append(message);
          expect(entry.event).toEqual({ type: 'message', message });
          seqs[roomId]?.push(entry.seq);
        }
        expect(seqs[roomA]).toEqual([1, 2, 3, 4]);
        expect(seqs[roomB]).toEqual([1, 2]);
        await expect(store.messages.head(roomA)).resolves.toBe(4);
        await expect(store.messages.head(roomB)).resolves.toBe(2);
      });

      it('logs concurrent appends in the order they were made, gap-free', async () => {
        const roomId = await newRoom();
        const entries = await Promise.all(
          Array.from({ length: 250 }, (_, i) => store.messages.append(newMessage(roomId, `${i}`))),
        );
        expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
        expect(
          entries.map((e) => (e.event.type === 'message' ? e.event.message.body : '')),
        ).toEqual(Array.from({ length: 250 }, (_, i) => `${i}`));
        await expect(store.messages.head(roomId)).resolves.toBe(250);
        const logged = await store.messages.eventsAfter(roomId, 0, 300);
        expect(logged).toEqual(entries);
        const snapshot = await store.messages.snapshot(roomId, 300, 'viewer');
        expect(snapshot.messages.map((m) => m.body)).toEqual(
          Array.from({ length: 250 }, (_, i) => `${i}`),
        );
      });

      it('fails only the write that cannot be stored, not the others queued with it', async () => {
        const roomId = await newRoom();
        const results = await Promise.allSettled([
          store.messages.append(newMessage(roomId, 'first')),
          store.messages.append(newMessage(unique('no-such-room'), 'lost')),
          store.messages.append(newMessage(roomId, 'second')),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(results[1]?.status === 'rejected' && results[1].reason).toBeInstanceOf(
          RoomNotFoundError,
        );
        expect(results.map((r) => (r.status === 'fulfilled' ? r.value.seq : null))).toEqual([
          1,
          null,
          2,
        ]);
        await expect(store.messages.head(roomId)).resolves.toBe(2);
      });

      it('snapshot returns the latest messages oldest first, with hasMore and head', async () => {
        const roomId = await newRoom();
        const appended = await appendMany(roomId, 7);
        const messages = appended.map(({ message }) => view(message));

        await expect(store.messages.snapshot(roomId, 5, 'viewer')).resolves.toEqual({
          head: 7,
          messages: messages.slice(2),
          hasMore: true,
          pinned: [],
        });
        await expect(store.messages.snapshot(roomId, 7, 'viewer')).resolves.toEqual({
          head: 7,
          messages,
          hasMore: false,
          pinned: [],
        });
        await expect(store.messages.snapshot(roomId, 50, 'viewer')).resolves.toEqual({
          head: 7,
          messages,
          hasMore: false,
          pinned: [],
        });
        await expect(store.messages.snapshot(roomId, 1, 'viewer')).resolves.toEqual({
          head: 7,
          messages: messages.slice(6),
          hasMore: true,
          pinned: [],
        });
      });

      it('snapshot head counts vote entries too, and reflects the counts', async () => {
        const roomId = await newRoom();
        const message = newMessage(roomId);
        await store.messages.append(message);
        await store.messages.vote(message.id, 'u1', 'up');
        await store.messages.vote(message.id, 'u2', 'down');
        const snapshot = await store.messages.snapshot(roomId, 10, 'u3');
        expect(snapshot.head).toBe(3);
        expect(snapshot.messages).toEqual([view(message, { up: 1, down: 1 })]);
      });

      it('keeps each snapshot consistent with its head while appends run concurrently', async () => {
        const roomId = await newRoom();
        const work: Promise<unknown>[] = [];
        const snapshots: Promise<{ head: number; ids: string[] }>[] = [];
        for (let i = 0; i < 40; i++) {
          work.push(store.messages.append(newMessage(roomId, `${i}`)));
          if (i % 4 === 0) {
            snapshots.push(
              store.messages.snapshot(roomId, 100, 'viewer').then((s) => ({
                head: s.head,
                ids: s.messages.map((m) => m.id),
              })),
            );
          }
        }
        await Promise.all(work);
        const log = await store.messages.eventsAfter(roomId, 0, 100);
        const idAtSeq = new Map(
          log.map((e) => [e.seq, e.event.type === 'message' ? e.event.message.id : '']),
        );
        for (const { head, ids } of await Promise.all(snapshots)) {
          const expected = [...idAtSeq].filter(([seq]) => seq <= head).map(([, id]) => id);
          expect(ids).toEqual(expected);
        }
      });

      it('pages backwards by cursor, returning every message exactly once', async () => {
        const roomId = await newRoom();
        const appended = await appendMany(roomId, 23);
        const all = appended.map(({ message }) => view(message));

        const pages: MessageView[][] = [];
        let before: string | undefined;
        for (;;) {
          const page = await store.messages.page(roomId, before, 5, 'viewer');
          pages.push(page.messages);
          expect(page.messages.length).toBeLessThanOrEqual(5);
          if (!page.hasMore) break;
          before = page.messages[0]?.id;
          expect(pages.length).toBeLessThan(10);
        }
        expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
        expect(pages.reverse().flat()).toEqual(all);
      });

      it('first page equals the snapshot; a page before the oldest message is empty', async () => {
        const roomId = await newRoom();
        const appended = await appendMany(roomId, 6);
        const first = await store.messages.page(roomId, undefined, 4, 'viewer');
        const snapshot = await store.messages.snapshot(roomId, 4, 'viewer');
        expect(first).toEqual({ messages: snapshot.messages, hasMore: snapshot.hasMore });
        const oldest = appended[0]?.message.id as string;
        await expect(store.messages.page(roomId, oldest, 4, 'viewer')).resolves.toEqual({
          messages: [],
          hasMore: false,
        });
        const second = appended[1]?.message.id as string;
        await expect(store.messages.page(roomId, second, 4, 'viewer')).resolves.toEqual({
          messages: [view(appended[0]?.message as Message)],
          hasMore: false,
        });
      });

      it('pages only the requested room', async () => {
        const roomA = await newRoom();
        const roomB = await newRoom();
        const a = await appendMany(roomA, 3);
        await appendMany(roomB, 3);
        const page = await store.messages.page(roomA, undefined, 10, 'viewer');
        expect(page.messages.map((m) => m.id)).toEqual(a.map(({ message }) => message.id));
      });
    });

    describe('votes', () => {
      const expectVote = (
        entry: LoggedEntry | null,
        fields: Omit<VoteEvent, 'type'>,
        seq: number,
      ) => {
        expect(entry).toEqual({ seq, event: { type: 'vote', ...fields } });
      };

      it('applies up, switches to down in one call, and clears with none', async () => {
        const roomId = await newRoom();
        const message = newMessage(roomId);
        await store.messages.append(message);
        const messageId = message.id;

        const up = await store.messages.vote(messageId, 'u1', 'up');
        expect(up).toMatchObject({ roomId, up: 1, down: 0 });
        expectVote(up?.entry ?? null, { messageId, up: 1, down: 0, voterId: 'u1', vote: 'up' }, 2);

        const down = await store.messages.vote(messageId, 'u1', 'down');
        expect(down).toMatchObject({ roomId, up: 0, down: 1 });
        expectVote(
          down?.entry ?? null,
          { messageId, up: 0, down: 1, voterId: 'u1', vote: 'down' },
          3,
        );

        const none = await store.messages.vote(messageId, 'u1', 'none');
        expect(none).toMatchObject({ roomId, up: 0, down: 0 });
        expectVote(
          none?.entry ?? null,
          { messageId, up: 0, down: 0, voterId: 'u1', vote: 'none' },
          4,
        );
        await expect(store.messages.head(roomId)).resolves.toBe(4);
      });

      it('repeating the same vote changes nothing and logs nothing', async () => {
        const roomId = await newRoom();
        const message = newMessage(roomId);
        await store.messages.append(message);
        await store.messages.vote(message.id, 'u1', 'up');
        await store.messages.vote(message.id, 'u2', 'down');
        const head = await store.messages.head(roomId);

        await expect(store.messages.vote(message.id, 'u1', 'up')).resolves.toEqual({
          roomId,
          up: 1,
          down: 1,
          entry: null,
        });
        await expect(store.messages.vote(message.id, 'u2', 'down')).resolves.toEqual({
          roomId,
          up: 1,
          down: 1,
          entry: null,
        });
        // Withdrawing a vote that was never cast is also a no-op.
        await expect(store.messages.vote(message.id, 'u3', 'none')).resolves.toEqual({
          roomId,
          up: 1,
          down: 1,
          entry: null,
        });
        await expect(store.messages.head(roomId)).resolves.toBe(head);
        await expect(store.messages.eventsAfter(roomId, head, 10)).resolves.toEqual([]);
      });

      it('returns null for a vote on an unknown message', async () => {
        const roomId = await newRoom();
        await expect(store.messages.vote(ulid(), 'u1', 'up')).resolves.toBeNull();
        await expect(store.messages.head(roomId)).resolves.toBe(0);
      });

      it('shows each viewer their own vote in snapshots and pages', async () => {
        const roomId = await newRoom();
        const [first, second] = (await appendMany(roomId, 2)).map((a) => a.message) as [
          Message,
          Message,
        ];
        await store.messages.vote(first.id, 'alice', 'up');
        await store.messages.vote(first.id, 'bob', 'down');
        await store.messages.vote(second.id, 'bob', 'up');
        await store.messages.vote(second.id, 'alice', 'up');
        await store.messages.vote(second.id, 'alice', 'none');

        const expected: Record<string, [MessageView['myVote'], MessageView['myVote']]> = {
          alice: ['up', null],
          bob: ['down', 'up'],
          carol: [null, null],
        };
        for (const [viewer, [mine1, mine2]] of Object.entries(expected)) {
          const messages = [
            view(first, { up: 1, down: 1, myVote: mine1 }),
            view(second, { up: 1, down: 0, myVote: mine2 }),
          ];
          const snapshot = await store.messages.snapshot(roomId, 10, viewer);
          expect(snapshot.messages).toEqual(messages);
          const page = await store.messages.page(roomId, undefined, 10, viewer);
          expect(page.messages).toEqual(messages);
          const older = await store.messages.page(roomId, second.id, 10, viewer);
          expect(older.messages).toEqual(messages.slice(0, 1));
        }
      });

      it('decides votes cast together as if they came one after another', async () => {
        const roomId = await newRoom();
        const message = newMessage(roomId);
        await store.messages.append(message);
        // Several changes by the same voters, cast at once, so that they queue together.
        const casts: [string, VoteValue][] = [
          ['u1', 'up'],
          ['u2', 'up'],
          ['u1', 'down'],
          ['u1', 'down'],
          ['u3', 'none'],
          ['u2', 'none'],
          ['u3', 'down'],
          ['u1', 'up'],
          ['u2', 'up'],
          ['u1', 'none'],
          ['u4', 'up'],
          ['u4', 'up'],
        ];
        const outcomes = await Promise.all(
          casts.map(([voter, value]) => store.messages.vote(message.id, voter, value)),
        );

        // Replaying the log gives every state the message went through, in order; each entry
        // is a real change and carries the totals of that state.
        const log = await store.messages.eventsAfter(roomId, 1, 100);
        const states = [{ votes: new Map<string, VoteValue>(), up: 0, down: 0 }];
        for (const { event } of log) {
          if (event.type !== 'vote') throw new Error(`unexpected ${event.type} entry`);
          const votes = new Map(states.at(-1)?.votes);
          expect(votes.get(event.voterId) ?? 'none').not.toBe(event.vote);
          votes.set(event.voterId, event.vote);
          const values = [...votes.values()];
          const totals = {
            up: values.filter((v) => v === 'up').length,
            down: values.filter((v) => v === 'down').length,
          };
          expect({ up: event.up, down: event.down }).toEqual(totals);
          states.push({ votes, ...totals });
        }
        // Every change is answered with its own entry; every cast that changed nothing is
        // answered with a state in which the voter already had that vote.
        const changed = outcomes.flatMap((outcome) => (outcome?.entry ? [outcome.entry] : []));
        expect([...changed].sort((a, b) => a.seq - b.seq)).toEqual(log);
        outcomes.forEach((outcome, index) => {
          const [voter, value] = casts[index] as [string, VoteValue];
          expect(outcome?.roomId).toBe(roomId);
          if (outcome?.entry) {
            expect(outcome.entry.event).toMatchObject({ voterId: voter, vote: value });
            expect(outcome).toMatchObject(
              outcome.entry.event.type === 'vote'
                ? { up: outcome.entry.event.up, down: outcome.entry.event.down }
                : {},
            );
          } else {
            const seen = states.some(
              (state) =>
                (state.votes.get(voter) ?? 'none') === value &&
                state.up === outcome?.up &&
                state.down === outcome?.down,
            );
            expect(seen).toBe(true);
          }
        });
        const final = states.at(-1);
        for (const voter of ['u1', 'u2', 'u3', 'u4']) {
          const snapshot = await store.messages.snapshot(roomId, 1, voter);
          const mine = final?.votes.get(voter) ?? 'none';
          expect(snapshot.messages[0]).toMatchObject({
            up: final?.up,
            down: final?.down,
            myVote: mine === 'none' ? null : mine,
          });
        }
      });

      it('keeps exact counts and one log entry per change when 100 users vote at once', async () => {
        const roomId = await newRoom();
        const message = newMessage(roomId);
        await store.messages.append(message);
        const voters = Array.from({ length: 100 }, (_, i) => `voter-${i}`);
        const castAll = (votes: [string, VoteValue][]) =>
          Promise.all(votes.map(([voter, value]) => store.messages.vote(message.id, voter, value)));
        const expectAllChanged = (outcomes: Awaited<ReturnType<typeof castAll>>) => {
          for (const outcome of outcomes) {
            expect(outcome?.roomId).toBe(roomId);
            expect(outcome?.entry).not.toBeNull();
          }
        };

        // 60 up, 40 down.
        const round1 = await castAll(voters.map((v, i) => [v, i < 60 ? 'up' : 'down']));
        expectAllChanged(round1);
        let snapshot = await store.messages.snapshot(roomId, 1, 'nobody');
        expect(snapshot.messages[0]).toMatchObject({ up: 60, down: 40 });

        // 20 switch: voters 0-9 up → down, voters 60-69 down → up.
        const switchers = [...voters.slice(0, 10), ...voters.slice(60, 70)];
        const round2 = await castAll(
          switchers.map((v) => [v, Number(v.split('-')[1]) < 60 ? 'down' : 'up']),
        );
        expectAllChanged(round2);
        snapshot = await store.messages.snapshot(roomId, 1, 'nobody');
        expect(snapshot.messages[0]).toMatchObject({ up: 60, down: 40 });

        // 10 withdraw: 5 current up-voters (20-24) and 5 current down-voters (80-84).
        const withdrawers = [...voters.slice(20, 25), ...voters.slice(80, 85)];
        const round3 = await castAll(withdrawers.map((v) => [v, 'none']));
        expectAllChanged(round3);
        snapshot = await store.messages.snapshot(roomId, 1, 'nobody');
        expect(snapshot.messages[0]).toMatchObject({ up: 55, down: 35 });
        expect(snapshot.head).toBe(1 + 100 + 20 + 10);

        // Every change is in the log exactly once, with gap-free sequence numbers, and replaying
        // the log in order reproduces every entry's totals.
        const log = await store.messages.eventsAfter(roomId, 1, 1000);
        expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 130 }, (_, i) => i + 2));
        const returnedSeqs = [...round1, ...round2, ...round3].map((o) => o?.entry?.seq);
        expect(new Set(returnedSeqs).size).toBe(130);
        expect([...returnedSeqs].sort((a = 0, b = 0) => a - b)).toEqual(log.map((e) => e.seq));

        const current = new Map<string, VoteValue>();
        const changesPerVoter = new Map<string, number>();
        for (const { event } of log) {
          if (event.type !== 'vote') throw new Error(`unexpected ${event.type} entry`);
          expect(event.messageId).toBe(message.id);
          expect(current.get(event.voterId) ?? 'none').not.toBe(event.vote);
          current.set(event.voterId, event.vote);
          changesPerVoter.set(event.voterId, (changesPerVoter.get(event.voterId) ?? 0) + 1);
          const values = [...current.values()];
          expect({ up: event.up, down: event.down }).toEqual({
            up: values.filter((v) => v === 'up').length,
            down: values.filter((v) => v === 'down').length,
          });
        }
        for (const voter of voters) {
          const expectedChanges =
            1 + Number(switchers.includes(voter)) + Number(withdrawers.includes(voter));
          expect(changesPerVoter.get(voter)).toBe(expectedChanges);
        }
      });
    });

    describeMessageChangesContract(open, { unique, newRoom, newMessage, view });

    describe('eventsAfter', () => {
      it('returns message and vote entries in sequence order, after seq, at most limit', async () => {
        const roomId = await newRoom();
        const other = await newRoom();
        const m1 = newMessage(roomId, 'one');
        const m2 = newMessage(roomId, 'two');
        await store.messages.append(m1);
        await store.messages.append(newMessage(other, 'elsewhere'));
        await store.messages.vote(m1.id, 'u1', 'up');
        await store.messages.append(m2);
        await store.messages.vote(m1.id, 'u1', 'down');

        const all = await store.messages.eventsAfter(roomId, 0, 100);
        expect(all).toEqual([
          { seq: 1, event: { type: 'message', message: m1 } },
          {
            seq: 2,
            event: { type: 'vote', messageId: m1.id, up: 1, down: 0, voterId: 'u1', vote: 'up' },
          },
          { seq: 3, event: { type: 'message', message: m2 } },
          {
            seq: 4,
            event: { type: 'vote', messageId: m1.id, up: 0, down: 1, voterId: 'u1', vote: 'down' },
          },
        ]);
        await expect(store.messages.eventsAfter(roomId, 1, 2)).resolves.toEqual(all.slice(1, 3));
        await expect(store.messages.eventsAfter(roomId, 3, 10)).resolves.toEqual(all.slice(3));
        await expect(store.messages.eventsAfter(roomId, 4, 10)).resolves.toEqual([]);
        await expect(store.messages.eventsAfter(roomId, 99, 10)).resolves.toEqual([]);
        await expect(store.messages.eventsAfter(other, 0, 10)).resolves.toHaveLength(1);
      });

      it('pages through a long log with repeated calls', async () => {
        const roomId = await newRoom();
        const appended = await appendMany(roomId, 25);
        const seen: number[] = [];
        let after = 0;
        for (;;) {
          const batch = await store.messages.eventsAfter(roomId, after, 7);
          if (batch.length === 0) break;
          expect(batch.length).toBeLessThanOrEqual(7);
          seen.push(...batch.map((e) => e.seq));
          expect(seen.length).toBeLessThanOrEqual(25);
          after = batch.at(-1)?.seq ?? after;
        }
        expect(seen).toEqual(appended.map(({ entry }) => entry.seq));
      });
    });

    // Last of the shared-database tests, since the thousands of rooms it adds stay there.
    describe('room directory at scale', () => {
      it('pages through thousands of rooms in name order, each exactly once', async () => {
        const tag = unique('many');
        // Mixed case, widths and scripts, created out of order and concurrently.
        const shapes = (i: number) => [
          `${tag} ${i}`,
          `${tag} Ｗ${i}`,
          `${tag} É${i}`,
          `${tag} 部屋${i}`,
        ];
        const names = Array.from({ length: 500 }, (_, i) => shapes(i)).flat();
        const created = new Map<string, string>();
        for (let i = 0; i < names.length; i += 50) {
          const batch = names.slice(i, i + 50).map((name) => ({ ...roomRecord('many'), name }));
          await Promise.all(batch.map((room) => store.rooms.create(room)));
          for (const room of batch) created.set(room.id, room.name);
        }

        const everything = await allPages({ limit: 100 });
        const ids = everything.rooms.map((room) => room.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of created.keys()) expect(ids).toContain(id);
        expect(inKeyOrder(everything.rooms.map((room) => room.name))).toBe(true);
        expect(everything.pages.at(-1)?.nextKey).toBeNull();

        const mine = await allPages({ limit: 37, namePrefix: tag.toUpperCase() });
        expect(mine.rooms.map((room) => room.id).sort()).toEqual([...created.keys()].sort());
        expect(inKeyOrder(mine.rooms.map((room) => room.name))).toBe(true);
        expect(mine.pages).toHaveLength(Math.ceil(names.length / 37));
      }, 120_000);
    });

    if (options.durable ?? true) {
      it('keeps users, rooms, messages, votes and sequence numbers across close and reopen', async () => {
        const first = await open();
        const username = unique('Durable');
        const user = { id: ulid(), username, passwordHash: 'hash', createdAt: 42 };
        const room = {
          id: unique('durable-room'),
          name: unique('durable'),
          createdAt: 43,
          owner: { id: 'owner-2', username: 'Keeper' },
        };
        const message = newMessage(room.id, 'kept');
        try {
          await first.users.create(user);
          await first.rooms.create(room);
          await first.messages.append(message);
          await first.messages.vote(message.id, 'u1', 'down');
        } finally {
          await first.close();
        }

        const second = await open();
        try {
          await expect(second.users.findByUsername(username.toLowerCase())).resolves.toEqual(user);
          await expect(second.rooms.get(room.id)).resolves.toEqual(room);
          await expect(second.messages.head(room.id)).resolves.toBe(2);
          await expect(second.messages.snapshot(room.id, 10, 'u1')).resolves.toEqual({
            head: 2,
            messages: [view(message, { down: 1, myVote: 'down' })],
            hasMore: false,
            pinned: [],
          });
          await expect(
            second.users.create({ ...user, id: ulid(), username: username.toUpperCase() }),
          ).rejects.toBeInstanceOf(DuplicateKeyError);
          // The sequence continues where it stopped, and the old vote still counts.
          const next = await second.messages.append(newMessage(room.id, 'after reopen'));
          expect(next.seq).toBe(3);
          const revote = await second.messages.vote(message.id, 'u1', 'down');
          expect(revote).toEqual({ roomId: room.id, up: 0, down: 1, entry: null });
          await expect(second.messages.eventsAfter(room.id, 0, 10)).resolves.toHaveLength(3);
        } finally {
          await second.close();
        }
      });
    }
  });
}
