import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/contract/events.js';
import { LIMITS } from '../../src/contract/limits.js';
import { AS_SENT, type Message, type MessageView } from '../../src/contract/models.js';
import { applyChatEvent, EMPTY_ROOM, type RoomState } from '../../src/contract/roomState.js';

const me = 'me';
const someone = { id: 'someone', username: 'someone' };
const message = (id: string, patch: Partial<Message> = {}): Message => ({
  id,
  roomId: 'general',
  author: someone,
  body: id,
  createdAt: 1,
  up: 0,
  down: 0,
  ...AS_SENT,
  ...patch,
});
const view = (id: string, patch: Partial<MessageView> = {}): MessageView => ({
  ...message(id),
  myVote: null,
  ...patch,
});
const snapshot = (messages: MessageView[], pinned: MessageView[] = []): ChatEvent => ({
  type: 'snapshot',
  messages,
  hasMore: false,
  pinned,
});
const fold = (events: ChatEvent[], from: RoomState = EMPTY_ROOM) =>
  events.reduce((state, event) => applyChatEvent(state, event, me), from);

describe('applyChatEvent', () => {
  it('replaces the messages and the pinned ones held with a snapshot', () => {
    const before = fold([{ type: 'message', message: message('a') }]);
    const after = fold(
      [
        {
          type: 'snapshot',
          messages: [view('b', { myVote: 'up' })],
          hasMore: true,
          pinned: [view('old', { pinned: true })],
        },
      ],
      before,
    );
    expect(after.messages.map((m) => m.id)).toEqual(['b']);
    expect(after.pinned.map((m) => m.id)).toEqual(['old']);
    expect(after.hasMore).toBe(true);
  });

  it('appends new messages once, even when an event is applied twice', () => {
    const event: ChatEvent = { type: 'message', message: message('a') };
    expect(
      fold([event, event, { type: 'message', message: message('b') }]).messages.map((m) => m.id),
    ).toEqual(['a', 'b']);
  });

  it('takes vote totals from the event and the reader’s own vote only from their own votes', () => {
    const state = fold([
      { type: 'message', message: message('a') },
      { type: 'vote', messageId: 'a', up: 1, down: 0, voterId: me, vote: 'up' },
      { type: 'vote', messageId: 'a', up: 1, down: 1, voterId: 'other', vote: 'down' },
    ]);
    expect(state.messages[0]).toMatchObject({ up: 1, down: 1, myVote: 'up' });
    const withdrawn = fold(
      [{ type: 'vote', messageId: 'a', up: 0, down: 1, voterId: me, vote: 'none' }],
      state,
    );
    expect(withdrawn.messages[0]).toMatchObject({ up: 0, down: 1, myVote: null });
  });

  it('ignores changes to messages it does not hold, and tracks who is online', () => {
    const users = [someone, { id: 'me', username: 'me' }];
    const state = fold([
      { type: 'vote', messageId: 'zzz', up: 5, down: 0, voterId: me, vote: 'up' },
      { type: 'edit', messageId: 'zzz', body: 'new', editedAt: 5 },
      { type: 'remove', messageId: 'zzz', removedAt: 6, by: 'owner' },
      { type: 'answer', messageId: 'zzz', answered: true },
      { type: 'presence', online: 3, users },
    ]);
    expect(state).toEqual({ ...EMPTY_ROOM, online: 3, onlineUsers: users });
  });

  it('shows an edit with its time, but never brings back the body of a removed message', () => {
    const edited = fold([
      { type: 'message', message: message('a') },
      { type: 'edit', messageId: 'a', body: 'better', editedAt: 7 },
    ]);
    expect(edited.messages[0]).toMatchObject({ body: 'better', editedAt: 7 });
    const removed = fold(
      [
        { type: 'remove', messageId: 'a', removedAt: 8, by: 'author' },
        // An edit replayed out of place (it is scrubbed in the log, but a reader may hold it).
        { type: 'edit', messageId: 'a', body: 'better', editedAt: 7 },
      ],
      edited,
    );
    expect(removed.messages[0]).toMatchObject({ body: '', removed: true, editedAt: 7 });
  });

  it('pins newest first, with the message the event carries when it is not held', () => {
    const old = message('old', { body: 'from long ago', up: 2 });
    const state = fold([
      snapshot([view('a'), view('b')]),
      { type: 'pin', messageId: 'a', pinned: true, message: message('a') },
      { type: 'pin', messageId: 'old', pinned: true, message: old },
      { type: 'pin', messageId: 'b', pinned: true, message: message('b') },
    ]);
    expect(state.pinned.map((m) => m.id)).toEqual(['b', 'old', 'a']);
    expect(state.pinned[1]).toEqual({ ...old, pinned: true, myVote: null });
    expect(state.messages.map((m) => m.pinned)).toEqual([true, true]);

    // Pinning again moves it first; unpinning drops it and clears the flag.
    const again = fold(
      [
        { type: 'pin', messageId: 'a', pinned: true, message: message('a') },
        { type: 'pin', messageId: 'b', pinned: false, message: null },
      ],
      state,
    );
    expect(again.pinned.map((m) => m.id)).toEqual(['a', 'old']);
    expect(again.messages.map((m) => m.pinned)).toEqual([true, false]);
  });

  it('keeps at most the pinned messages a snapshot carries', () => {
    const pins: ChatEvent[] = Array.from({ length: LIMITS.pinnedMax + 3 }, (_, i) => ({
      type: 'pin',
      messageId: `p${i}`,
      pinned: true,
      message: message(`p${i}`),
    }));
    const state = fold(pins);
    expect(state.pinned).toHaveLength(LIMITS.pinnedMax);
    expect(state.pinned[0]?.id).toBe(`p${LIMITS.pinnedMax + 2}`);
  });

  it('changes a pinned message wherever it is held, and unpins it when removed', () => {
    const state = fold([
      snapshot([view('a')], [view('old', { pinned: true })]),
      { type: 'pin', messageId: 'a', pinned: true, message: message('a') },
      { type: 'vote', messageId: 'old', up: 1, down: 0, voterId: me, vote: 'up' },
      { type: 'answer', messageId: 'a', answered: true },
      { type: 'edit', messageId: 'a', body: 'edited', editedAt: 3 },
    ]);
    expect(state.pinned).toEqual([
      view('a', { pinned: true, answered: true, body: 'edited', editedAt: 3 }),
      view('old', { pinned: true, up: 1, myVote: 'up' }),
    ]);
    expect(state.messages).toEqual([state.pinned[0]]);
    const removed = fold([{ type: 'remove', messageId: 'a', removedAt: 4, by: 'owner' }], state);
    expect(removed.pinned.map((m) => m.id)).toEqual(['old']);
    expect(removed.messages[0]).toMatchObject({ removed: true, pinned: false, body: '' });
  });

  it('shows who else is typing, and drops a typist once their message arrives', () => {
    const ada = { id: 'ada', username: 'ada' };
    const typing = fold([{ type: 'typing', users: [ada, { id: me, username: 'me' }, someone] }]);
    expect(typing.typing).toEqual([ada, someone]);
    const sent = fold([{ type: 'message', message: message('a') }], typing);
    expect(sent.typing).toEqual([ada]);
    expect(fold([{ type: 'typing', users: [] }], sent).typing).toEqual([]);
  });

  it('replaying the log after a snapshot gives what a later snapshot shows', () => {
    // What the server's snapshot said at seq 10, the entries after it, and its snapshot at 20.
    const before = snapshot([
      view('a', { up: 1 }),
      view('b'),
      view('c', { myVote: 'down', down: 1 }),
    ]);
    const log: ChatEvent[] = [
      { type: 'message', message: message('d', { author: { id: me, username: 'me' } }) },
      { type: 'edit', messageId: 'b', body: 'b, edited', editedAt: 11 },
      { type: 'pin', messageId: 'b', pinned: true, message: message('b', { body: 'b, edited' }) },
      { type: 'vote', messageId: 'a', up: 2, down: 0, voterId: me, vote: 'up' },
      { type: 'answer', messageId: 'a', answered: true },
      { type: 'pin', messageId: 'a', pinned: true, message: message('a', { up: 2 }) },
      { type: 'edit', messageId: 'c', body: '', editedAt: 12 },
      { type: 'remove', messageId: 'c', removedAt: 13, by: 'owner' },
      { type: 'pin', messageId: 'd', pinned: true, message: message('d') },
      { type: 'pin', messageId: 'd', pinned: false, message: null },
      { type: 'answer', messageId: 'd', answered: true },
      { type: 'answer', messageId: 'd', answered: false },
    ];
    const pinnedA = view('a', { up: 2, myVote: 'up', answered: true, pinned: true });
    const pinnedB = view('b', { body: 'b, edited', editedAt: 11, pinned: true });
    const after = snapshot(
      [
        pinnedA,
        pinnedB,
        view('c', { body: '', removed: true, editedAt: 12, down: 1, myVote: 'down' }),
        view('d', { author: { id: me, username: 'me' } }),
      ],
      [pinnedA, pinnedB],
    );
    const replayed = fold(log, fold([before]));
    const fresh = fold([after]);
    expect(replayed.messages).toEqual(fresh.messages);
    expect(replayed.pinned).toEqual(fresh.pinned);
  });
});
