import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../../src/contract/events.js';
import { LIMITS } from '../../src/contract/limits.js';
import type { Message, MessageView } from '../../src/contract/models.js';
import { applyChatEvent, EMPTY_ROOM, type RoomState } from '../../src/contract/roomState.js';
import { createUlidFactory } from '../../src/domain/ids.js';
import {
  DuplicateMessageError,
  type LoggedEntry,
  MessageRemovedError,
  RoomNotFoundError,
  type Store,
} from '../../src/storage/store.js';

/** Helpers of `describeStoreContract` the tests below share. */
export interface StoreFixtures {
  /** A name no run has used. */
  unique(prefix: string): string;
  /** Creates a room nobody owns; returns its id. */
  newRoom(): Promise<string>;
  /** A message as sent (not stored) in `roomId`. */
  newMessage(roomId: string, body?: string, patch?: Partial<Message>): Message;
  /** `message` as a reader who has not voted sees it. */
  view(message: Message, patch?: Partial<MessageView>): MessageView;
}

/**
 * The store contract for what happens to a message after it is sent (edits, removals, pins,
 * answers), exactly-once sends and read positions. Part of `describeStoreContract`, so every
 * adapter runs it; `open` gives more connections over the same data, standing in for other
 * chat servers.
 */
export function describeMessageChangesContract(
  open: () => Promise<Store>,
  fixtures: StoreFixtures,
): void {
  const { unique, newRoom, newMessage, view } = fixtures;
  describe('message changes, exactly-once sends and read positions', () => {
    let store: Store;
    let other: Store;
    beforeAll(async () => {
      [store, other] = await Promise.all([open(), open()]);
    });
    afterAll(async () => {
      await Promise.all([store?.close(), other?.close()]);
    });

    const ulid = createUlidFactory();
    const posted = async (roomId: string, body = 'hello') => {
      const message = newMessage(roomId, body);
      await store.messages.append(message);
      return message;
    };
    const logOf = (roomId: string) => store.messages.eventsAfter(roomId, 0, 1000);
    /** Every place a body could still be read from: the log, the snapshot, history, the message. */
    const everywhere = async (roomId: string, messageId: string) =>
      JSON.stringify([
        await logOf(roomId),
        await store.messages.snapshot(roomId, 50, 'anyone'),
        await store.messages.page(roomId, undefined, 50, 'anyone'),
        await store.messages.get(messageId),
      ]);
    const fold = (events: LoggedEvent[], from: RoomState) =>
      events.reduce((state, event) => applyChatEvent(state, event, 'reader'), from);

    describe('edits', () => {
      it('replaces the body, marks the time, logs an edit entry and shows it everywhere', async () => {
        const roomId = await newRoom();
        const message = await posted(roomId, 'frist');
        const outcome = await store.messages.edit(message.id, 'first', 1234);
        const edited = { ...message, body: 'first', editedAt: 1234 };
        expect(outcome).toEqual({
          message: edited,
          entry: {
            seq: 2,
            event: { type: 'edit', messageId: message.id, body: 'first', editedAt: 1234 },
          },
        });
        await expect(store.messages.get(message.id)).resolves.toEqual(edited);
        const snapshot = await store.messages.snapshot(roomId, 10, 'anyone');
        expect(snapshot).toMatchObject({ head: 2, messages: [view(edited)] });
        const page = await store.messages.page(roomId, undefined, 10, 'anyone');
        expect(page.messages).toEqual([view(edited)]);
      });

      it('logs nothing for the same body again, and answers null for an unknown message', async () => {
        const roomId = await newRoom();
        const message = await posted(roomId, 'same');
        await expect(store.messages.edit(message.id, 'same', 5)).resolves.toEqual({
          message,
          entry: null,
        });
        await expect(store.messages.edit(ulid(), 'x', 5)).resolves.toBeNull();
        await expect(store.messages.head(roomId)).resolves.toBe(1);
      });
    });

    describe('removals', () => {
      it('leave a tombstone and take the body out of every entry, snapshot and page', async () => {
        const roomId = await newRoom();
        const secret = `secret ${unique('body')}`;
        const kept = await posted(roomId, 'stays');
        const message = await posted(roomId, secret);
        await store.messages.edit(message.id, `${secret}, edited`, 10);
        await store.messages.pin(message.id, true);
        await store.messages.vote(message.id, 'u1', 'up');
        expect(await everywhere(roomId, message.id)).toContain(secret);

        const outcome = await store.messages.remove(message.id, 20, 'owner');
        const tombstone = { ...message, body: '', removed: true, editedAt: 10, up: 1 };
        expect(outcome).toEqual({
          message: tombstone,
          entry: {
            seq: 6,
            event: { type: 'remove', messageId: message.id, removedAt: 20, by: 'owner' },
          },
        });
        expect(await everywhere(roomId, message.id)).not.toContain(secret);
        await expect(store.messages.get(message.id)).resolves.toEqual(tombstone);
        const snapshot = await store.messages.snapshot(roomId, 10, 'u1');
        expect(snapshot).toEqual({
          head: 6,
          messages: [view(kept), view(tombstone, { myVote: 'up' })],
          hasMore: false,
          pinned: [],
        });
        // The entries keep their place and meaning; only the body is gone.
        const types = (await logOf(roomId)).map(({ event }) => event.type);
        expect(types).toEqual(['message', 'message', 'edit', 'pin', 'vote', 'remove']);
        const [, own, edit, pin] = await logOf(roomId);
        expect(own?.event).toMatchObject({ message: { id: message.id, body: '', removed: true } });
        expect(edit?.event).toEqual({
          type: 'edit',
          messageId: message.id,
          body: '',
          editedAt: 10,
        });
        expect(pin?.event).toMatchObject({ pinned: true, message: { body: '', removed: true } });
      });

      it('are idempotent: removing a removed message answers it as it is and logs nothing', async () => {
        const roomId = await newRoom();
        const message = await posted(roomId);
        const first = await store.messages.remove(message.id, 1, 'author');
        const again = await store.messages.remove(message.id, 2, 'owner');
        expect(again).toEqual({ message: first?.message, entry: null });
        await expect(store.messages.head(roomId)).resolves.toBe(2);
        await expect(store.messages.remove(ulid(), 1, 'author')).resolves.toBeNull();
      });

      it('freeze everything else: votes, edits, pins and answers are refused', async () => {
        const roomId = await newRoom();
        const message = await posted(roomId);
        await store.messages.vote(message.id, 'u1', 'down');
        await store.messages.remove(message.id, 1, 'author');
        const refused = [
          store.messages.vote(message.id, 'u2', 'up'),
          store.messages.vote(message.id, 'u1', 'none'),
          store.messages.edit(message.id, 'back again', 2),
          store.messages.pin(message.id, true),
          store.messages.answer(message.id, true),
        ];
        for (const attempt of await Promise.allSettled(refused)) {
          expect(attempt.status === 'rejected' && attempt.reason).toBeInstanceOf(
            MessageRemovedError,
          );
        }
        await expect(store.messages.head(roomId)).resolves.toBe(3);
        await expect(store.messages.get(message.id)).resolves.toMatchObject({
          up: 0,
          down: 1,
          removed: true,
          pinned: false,
          answered: false,
        });
      });

      it('scrub an edit queued together with them, decided right before', async () => {
        const roomId = await newRoom();
        const message = await posted(roomId, 'v1');
        // Queued together, so one commit may decide and apply both.
        const [edited, removed] = await Promise.allSettled([
          store.messages.edit(message.id, 'v2 secret', 3),
          store.messages.remove(message.id, 4, 'author'),
        ]);
        expect(removed.status).toBe('fulfilled');
        if (edited.status === 'fulfilled') {
          const seqs = [
            edited.value?.entry?.seq,
            removed.status === 'fulfilled' && removed.value?.entry?.seq,
          ];
          expect(seqs).toEqual([2, 3]);
        } else {
          expect(edited.reason).toBeInstanceOf(MessageRemovedError);
        }
        expect(await everywhere(roomId, message.id)).not.toContain('secret');
      });
    });

    describe('pins and answers', () => {
      it('list pinned messages first in the snapshot, newest pin first, whatever their age', async () => {
        const roomId = await newRoom();
        const oldest = await posted(roomId, 'oldest');
        const middle = await posted(roomId, 'middle');
        for (let i = 0; i < 5; i++) await posted(roomId, `filler ${i}`);
        const newest = await posted(roomId, 'newest');
        const pin = await store.messages.pin(middle.id, true);
        expect(pin).toEqual({
          message: { ...middle, pinned: true },
          entry: {
            seq: 9,
            event: {
              type: 'pin',
              messageId: middle.id,
              pinned: true,
              message: { ...middle, pinned: true },
            },
          },
        });
        await store.messages.pin(oldest.id, true);
        await store.messages.pin(newest.id, true);
        await store.messages.vote(oldest.id, 'viewer', 'up');

        const snapshot = await store.messages.snapshot(roomId, 2, 'viewer');
        expect(snapshot.messages.map((m) => m.body)).toEqual(['filler 4', 'newest']);
        expect(snapshot.pinned).toEqual([
          view(newest, { pinned: true }),
          view(oldest, { pinned: true, up: 1, myVote: 'up' }),
          view(middle, { pinned: true }),
        ]);

        // Pinning again changes nothing; unpinning takes it off the list; pinning moves it first.
        await expect(store.messages.pin(newest.id, true)).resolves.toMatchObject({ entry: null });
        await store.messages.pin(oldest.id, false);
        await store.messages.pin(middle.id, false);
        await store.messages.pin(middle.id, true);
        const after = await store.messages.snapshot(roomId, 2, 'viewer');
        expect(after.pinned.map((m) => m.body)).toEqual(['middle', 'newest']);
      });

      it(`carries at most ${LIMITS.pinnedMax} pinned messages in a snapshot`, async () => {
        const roomId = await newRoom();
        const messages = [];
        for (let i = 0; i < LIMITS.pinnedMax + 2; i++) messages.push(await posted(roomId, `${i}`));
        for (const message of messages) await store.messages.pin(message.id, true);
        const { pinned } = await store.messages.snapshot(roomId, 1, 'viewer');
        expect(pinned.map((m) => m.body)).toEqual(
          messages
            .slice(2)
            .map((m) => m.body)
            .reverse(),
        );
      });

      it('mark answers, logging only real changes', async () => {
        const roomId = await newRoom();
        const question = await posted(roomId, 'why?');
        const marked = await store.messages.answer(question.id, true);
        expect(marked).toEqual({
          message: { ...question, answered: true },
          entry: { seq: 2, event: { type: 'answer', messageId: question.id, answered: true } },
        });
        await expect(store.messages.answer(question.id, true)).resolves.toMatchObject({
          entry: null,
        });
        await expect(store.messages.answer(question.id, false)).resolves.toMatchObject({
          message: { answered: false },
          entry: { seq: 3 },
        });
        await expect(store.messages.answer(ulid(), true)).resolves.toBeNull();
        await expect(store.messages.pin(ulid(), true)).resolves.toBeNull();
      });
    });

    it('replaying the log after a snapshot gives what a later snapshot shows', async () => {
      const roomId = await newRoom();
      const [a, b, c] = [
        await posted(roomId, 'a'),
        await posted(roomId, 'b'),
        await posted(roomId, 'c'),
      ];
      await store.messages.vote(a.id, 'reader', 'up');
      const before = await store.messages.snapshot(roomId, 50, 'reader');

      await store.messages.edit(b.id, 'b, edited', 1);
      await store.messages.pin(b.id, true);
      await store.messages.vote(a.id, 'reader', 'down');
      await store.messages.answer(a.id, true);
      await store.messages.pin(a.id, true);
      await store.messages.edit(c.id, 'c, edited', 2);
      await store.messages.pin(c.id, true);
      await store.messages.remove(c.id, 3, 'owner');
      await posted(roomId, 'd');
      await store.messages.pin(a.id, false);
      await store.messages.pin(a.id, true);
      await store.messages.vote(b.id, 'someone', 'up');

      const start = fold([], {
        ...EMPTY_ROOM,
        messages: before.messages,
        hasMore: before.hasMore,
        pinned: before.pinned,
      });
      const log = await store.messages.eventsAfter(roomId, before.head, 100);
      const replayed = fold(
        log.map(({ event }) => event),
        start,
      );
      const after = await store.messages.snapshot(roomId, 50, 'reader');
      expect(replayed.messages).toEqual(after.messages);
      expect(replayed.pinned).toEqual(after.pinned);
      expect(after.pinned.map((m) => m.body)).toEqual(['a', 'b, edited']);
    });

    describe('concurrent changes, from two connections (two chat servers)', () => {
      /** Runs `first` on one connection and `second` on the other, at once; both settle. */
      const race = <A, B>(first: (s: Store) => Promise<A>, second: (s: Store) => Promise<B>) =>
        Promise.allSettled([first(store), second(other)] as const);
      const entriesFor = async (roomId: string, messageId: string) =>
        (await logOf(roomId)).filter(
          ({ event }) =>
            (event.type === 'message' ? event.message.id : event.messageId) === messageId,
        );

      it('a vote racing a removal is either logged before it and frozen, or refused', async () => {
        const outcomes = new Set<string>();
        for (let round = 0; round < 8; round++) {
          const roomId = await newRoom();
          const message = await posted(roomId);
          const [vote, removal] = await race(
            (s) => s.messages.vote(message.id, 'voter', 'up'),
            (s) => s.messages.remove(message.id, 1, 'author'),
          );
          expect(removal).toMatchObject({
            status: 'fulfilled',
            value: { entry: { event: { type: 'remove' } } },
          });
          const types = (await entriesFor(roomId, message.id)).map(({ event }) => event.type);
          const stored = await store.messages.get(message.id);
          if (vote.status === 'fulfilled') {
            outcomes.add('voted, then removed');
            expect(vote.value).toMatchObject({ up: 1, down: 0, entry: { seq: 2 } });
            expect(types).toEqual(['message', 'vote', 'remove']);
            expect(stored).toMatchObject({ up: 1, removed: true });
          } else {
            outcomes.add('removed, vote refused');
            expect(vote.reason).toBeInstanceOf(MessageRemovedError);
            expect(types).toEqual(['message', 'remove']);
            expect(stored).toMatchObject({ up: 0, removed: true });
          }
          // Frozen either way.
          await expect(other.messages.vote(message.id, 'late', 'down')).rejects.toBeInstanceOf(
            MessageRemovedError,
          );
        }
        expect(outcomes.size).toBeGreaterThan(0);
      });

      it('an edit racing a removal is either logged before it and scrubbed, or refused', async () => {
        for (let round = 0; round < 8; round++) {
          const roomId = await newRoom();
          const message = await posted(roomId, 'original');
          const [edit, removal] = await race(
            (s) => s.messages.edit(message.id, 'edited secret', 5),
            (s) => s.messages.remove(message.id, 6, 'author'),
          );
          expect(removal.status).toBe('fulfilled');
          const types = (await entriesFor(roomId, message.id)).map(({ event }) => event.type);
          if (edit.status === 'fulfilled') {
            expect(edit.value?.entry?.seq).toBe(2);
            expect(types).toEqual(['message', 'edit', 'remove']);
          } else {
            expect(edit.reason).toBeInstanceOf(MessageRemovedError);
            expect(types).toEqual(['message', 'remove']);
          }
          const body = await everywhere(roomId, message.id);
          expect(body).not.toContain('secret');
          expect(body).not.toContain('original');
          await expect(other.messages.get(message.id)).resolves.toMatchObject({
            body: '',
            removed: true,
          });
        }
      });

      it('two retries of one clientMessageId on two connections post one message', async () => {
        for (let round = 0; round < 8; round++) {
          const roomId = await newRoom();
          const clientMessageId = unique('cmid');
          const attempt = () => newMessage(roomId, 'once', { clientMessageId });
          const [one, two] = await race(
            (s) => s.messages.append(attempt()),
            (s) => s.messages.append(attempt()),
          );
          const won = [one, two].filter((r) => r.status === 'fulfilled');
          const lost = [one, two].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(1);
          expect(lost[0]).toBeInstanceOf(DuplicateMessageError);
          const entry = (won[0] as PromiseFulfilledResult<LoggedEntry>).value;
          const original = entry.event.type === 'message' ? entry.event.message : null;
          expect((lost[0] as DuplicateMessageError).original).toEqual(original);
          const log = await logOf(roomId);
          expect(log).toEqual([entry]);
        }
      });
    });

    describe('exactly-once sends', () => {
      it('a retry with the same clientMessageId returns the original and logs nothing', async () => {
        const roomId = await newRoom();
        const clientMessageId = unique('cmid');
        const original = newMessage(roomId, 'hello', { clientMessageId });
        await store.messages.append(original);
        await store.messages.edit(original.id, 'hello, edited', 9);
        const retry = newMessage(roomId, 'hello', { clientMessageId });
        const error = await store.messages.append(retry).catch((failure: unknown) => failure);
        expect(error).toBeInstanceOf(DuplicateMessageError);
        expect((error as DuplicateMessageError).original).toEqual({
          ...original,
          body: 'hello, edited',
          editedAt: 9,
        });
        await expect(store.messages.head(roomId)).resolves.toBe(2);
        await expect(store.messages.get(retry.id)).resolves.toBeNull();
      });

      it('the same id from another author, or in another room, is another message', async () => {
        const roomId = await newRoom();
        const otherRoom = await newRoom();
        const clientMessageId = unique('cmid');
        await store.messages.append(newMessage(roomId, 'mine', { clientMessageId }));
        const theirs = newMessage(roomId, 'theirs', {
          clientMessageId,
          author: { id: 'someone-else', username: 'else' },
        });
        await expect(store.messages.append(theirs)).resolves.toMatchObject({ seq: 2 });
        await expect(
          store.messages.append(newMessage(otherRoom, 'there', { clientMessageId })),
        ).resolves.toMatchObject({ seq: 1 });
        // Messages without an id never collide.
        await expect(store.messages.append(newMessage(roomId))).resolves.toMatchObject({ seq: 3 });
        await expect(store.messages.append(newMessage(roomId))).resolves.toMatchObject({ seq: 4 });
      });

      it('retries queued together with the original post it once', async () => {
        const roomId = await newRoom();
        const clientMessageId = unique('cmid');
        const results = await Promise.allSettled(
          Array.from({ length: 4 }, () =>
            store.messages.append(newMessage(roomId, 'burst', { clientMessageId })),
          ),
        );
        expect(results.map((r) => r.status)).toEqual([
          'fulfilled',
          'rejected',
          'rejected',
          'rejected',
        ]);
        await expect(store.messages.head(roomId)).resolves.toBe(1);
      });
    });

    describe('read positions', () => {
      it('count messages by others, not removed, after the position, up to the cap', async () => {
        const roomId = await newRoom();
        const quiet = await newRoom();
        const reader = unique('reader');
        const others = { id: unique('writer'), username: 'writer' };
        const write = (body: string, by = others) =>
          store.messages.append(newMessage(roomId, body, { author: by }));
        await write('1');
        await write('2');
        await write('mine', { id: reader, username: 'reader' });
        const removed = newMessage(roomId, 'gone', { author: others });
        await store.messages.append(removed);
        await store.messages.remove(removed.id, 1, 'author');
        const unread = () => store.messages.unread(reader, [roomId, quiet], 3);
        expect(await unread()).toEqual(
          new Map([
            [roomId, 2],
            [quiet, 0],
          ]),
        );

        await store.messages.markRead(reader, roomId, 1);
        expect((await unread()).get(roomId)).toBe(1);
        for (let i = 0; i < 5; i++) await write(`more ${i}`);
        expect((await unread()).get(roomId)).toBe(3);
        // Another user's position is their own.
        expect((await store.messages.unread(unique('nobody'), [roomId], 100)).get(roomId)).toBe(8);
      });

      it('never move back, never pass the head, and need the room to exist', async () => {
        const roomId = await newRoom();
        const reader = unique('reader');
        for (let i = 0; i < 3; i++) await posted(roomId, `${i}`);
        await store.messages.markRead(reader, roomId, 3);
        await store.messages.markRead(reader, roomId, 1);
        expect((await store.messages.unread(reader, [roomId], 10)).get(roomId)).toBe(0);
        // Beyond the head is the head: later messages still count as unread.
        await store.messages.markRead(reader, roomId, 999);
        await posted(roomId, 'later');
        expect((await store.messages.unread(reader, [roomId], 10)).get(roomId)).toBe(1);
        await expect(
          store.messages.markRead(reader, unique('no-such-room'), 1),
        ).rejects.toBeInstanceOf(RoomNotFoundError);
        // The same on every connection.
        expect((await other.messages.unread(reader, [roomId], 10)).get(roomId)).toBe(1);
      });
    });
  });
}
