import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_BACKOFF } from '../../src/client/backoff.js';
import {
  type FollowedRoom,
  type FollowOptions,
  followRoom,
  type RoomFollower,
  withVote,
} from '../../src/client/roomFollower.js';
import type { ChatEvent } from '../../src/contract/events.js';
import { LIMITS } from '../../src/contract/limits.js';
import { AS_SENT, type Message, type MessageView } from '../../src/contract/models.js';
import { connectionLost, fakeServer, serverError } from '../helpers/fakeChatServer.js';

/*
 * The room follower against a fake link (test/helpers/fakeChatServer.ts): the test plays the
 * server, and drives time with fake timers to check the backoff and end rules.
 */

const message = (id: string, up = 0, down = 0, myVote: MessageView['myVote'] = null) => ({
  id,
  roomId: 'general',
  author: { id: 'author', username: 'author' },
  body: id,
  createdAt: 0,
  up,
  down,
  ...AS_SENT,
  myVote,
});
const snapshot = (ids: string[], hasMore = false): ChatEvent => ({
  type: 'snapshot',
  messages: ids.map((id) => message(id)),
  hasMore,
  pinned: [],
});
const posted = (id: string): ChatEvent => {
  const { myVote: _, ...plain } = message(id);
  return { type: 'message', message: plain satisfies Message };
};
const ids = (state: FollowedRoom) => state.messages.map((m) => m.id);
/** The feed's `message` event for the reader's own message sent with `clientMessageId`. */
const echo = (id: string, clientMessageId = 'none') => {
  const { myVote: _, ...plain } = message(id);
  return {
    type: 'message' as const,
    message: { ...plain, author: { id: 'me', username: 'me' }, clientMessageId },
  };
};

let server: ReturnType<typeof fakeServer>;
let follower: RoomFollower;
const follow = (options: Partial<FollowOptions> = {}) => {
  follower = followRoom(server.client, { roomId: 'general', readerId: 'me', ...options });
  return follower;
};
/** Lets the fake link's promise callbacks run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  server = fakeServer();
});
afterEach(() => {
  follower?.close();
  vi.useRealTimers();
});

describe('following a room', () => {
  it('folds the snapshot and every later event into its state, and says it is live', () => {
    follow();
    expect(follower.getState().status).toEqual({ state: 'connecting' });
    expect(follower.getState().loaded).toBe(false);
    expect(server.latest().input).toEqual({ roomId: 'general', lastEventId: null });

    const seen: FollowedRoom[] = [];
    follower.subscribe((state) => seen.push(state));
    server.latest().emit(3, snapshot(['a', 'b'], true));
    server.latest().emit(4, posted('c'));
    server.latest().emit(5, {
      type: 'vote',
      messageId: 'a',
      up: 1,
      down: 0,
      voterId: 'me',
      vote: 'up',
    });
    server.latest().emit(5, { type: 'presence', online: 2, users: [] });

    const state = follower.getState();
    expect(state.status).toEqual({ state: 'live' });
    expect(state.loaded).toBe(true);
    expect(ids(state)).toEqual(['a', 'b', 'c']);
    expect(state.messages[0]).toMatchObject({ up: 1, myVote: 'up' });
    expect(state.hasMore).toBe(true);
    expect(state.online).toBe(2);
    expect(seen).toHaveLength(4);
    expect(seen.at(-1)).toBe(state);
  });

  it.each([
    [
      'the service is unavailable',
      () =>
        serverError(
          'SERVICE_UNAVAILABLE',
          'The database is unavailable right now; try again in a moment',
        ),
    ],
    [
      'a rate limit',
      () => serverError('TOO_MANY_REQUESTS', 'At most 32 subscriptions per connection'),
    ],
    [
      'an internal error',
      () =>
        serverError('INTERNAL_SERVER_ERROR', 'Something went wrong on our side; please try again'),
    ],
    ['the connection is lost', connectionLost],
  ])('resubscribes from its last event id when %s', async (_, error) => {
    follow({ random: () => 0 });
    server.latest().emit(7, snapshot(['a']));
    server.latest().emit(8, posted('b'));

    const failure = error();
    server.latest().fail(failure);
    const { status } = follower.getState();
    expect(status.state).toBe('reconnecting');
    expect(status).toHaveProperty('reason', expect.stringMatching(/\w+ \w+/));
    expect(server.feeds).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(DEFAULT_BACKOFF.initialMs);
    expect(server.feeds).toHaveLength(2);
    expect(server.latest().input).toEqual({ roomId: 'general', lastEventId: '8' });
    server.latest().emit(9, posted('c'));
    expect(ids(follower.getState())).toEqual(['a', 'b', 'c']);
    expect(follower.getState().status).toEqual({ state: 'live' });
  });

  it('says why in words while the connection is down, and is live again once events flow', () => {
    follow();
    server.latest().emit(1, snapshot(['a']));
    server.latest().dropConnection();
    expect(follower.getState().status).toEqual({
      state: 'reconnecting',
      reason: 'Cannot reach the server; check your connection and try again',
    });
    server.latest().emit(2, { type: 'presence', online: 1, users: [] });
    expect(follower.getState().status).toEqual({ state: 'live' });
    expect(server.feeds).toHaveLength(1);
  });

  it('resubscribes when the server ends the feed without an error', async () => {
    follow({ random: () => 0 });
    server.latest().emit(4, snapshot(['a']));
    server.latest().complete();
    expect(follower.getState().status.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(DEFAULT_BACKOFF.initialMs);
    expect(server.latest().input.lastEventId).toBe('4');
  });
});

describe('the backoff between attempts', () => {
  /** Fails every subscription as it comes and records how long each retry waited. */
  async function waits(count: number): Promise<number[]> {
    const result: number[] = [];
    for (let attempt = 0; attempt < count; attempt += 1) {
      const before = server.feeds.length;
      server.latest().fail(serverError('SERVICE_UNAVAILABLE', 'Unavailable'));
      let waited = 0;
      while (server.feeds.length === before) {
        await vi.advanceTimersByTimeAsync(50);
        waited += 50;
        if (waited > 60_000) throw new Error('never retried');
      }
      result.push(waited);
    }
    return result;
  }

  it('doubles from 0.5–1 s and never waits more than 10 s, with jitter in between', async () => {
    follow({ random: () => 0 });
    expect(await waits(7)).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);
    follower.close();

    server = fakeServer();
    follow({ random: () => 0.999 });
    expect(await waits(7)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('starts from the shortest wait again once events flow', async () => {
    follow({ random: () => 0 });
    expect(await waits(3)).toEqual([500, 1000, 2000]);
    server.latest().emit(1, snapshot([]));
    expect(await waits(1)).toEqual([500]);
  });

  it('takes its bounds from the options', async () => {
    follow({ random: () => 0.999, backoff: { initialMs: 20, maxMs: 100 } });
    expect(await waits(5)).toEqual([50, 100, 100, 100, 100]);
  });
});

describe('the end of a feed', () => {
  it.each([
    ['NOT_FOUND', 'There is no room "general"'],
    ['UNAUTHORIZED', 'Your session has expired; sign in again'],
    ['BAD_REQUEST', 'Room id may only contain lowercase letters, digits and "-"'],
  ])('comes only with an error retrying cannot fix (%s), told in words', async (code, words) => {
    follow();
    server.latest().fail(serverError(code, words));
    expect(follower.getState().status).toEqual({ state: 'ended', code, reason: words });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.feeds).toHaveLength(1);
  });

  it('comes when the follower is closed: unsubscribed, no retry, no more updates', async () => {
    follow();
    const listener = vi.fn();
    follower.subscribe(listener);
    server.latest().fail(serverError('SERVICE_UNAVAILABLE', 'Unavailable'));
    expect(listener).toHaveBeenCalledTimes(1);
    follower.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.feeds).toHaveLength(1);

    server = fakeServer();
    follow();
    follower.subscribe(listener);
    follower.close();
    expect(server.latest().unsubscribed).toBe(true);
    server.latest().emit(1, snapshot(['a']));
    expect(listener).toHaveBeenCalledTimes(1);
  });
});

/** Follows a room holding message 'a' and upvotes it; the server has not answered yet. */
async function upvoteInFlight() {
  follow();
  server.latest().emit(1, snapshot(['a']));
  const voting = follower.vote('a', 'up');
  await settle();
  return { voting, request: server.request('chat.vote') };
}
const voteOnA = (up: number, down: number, voterId: string, vote: 'up' | 'down'): ChatEvent => ({
  type: 'vote',
  messageId: 'a',
  up,
  down,
  voterId,
  vote,
});

describe('sending, voting and paging', () => {
  it('sends to its room and shows the message once the feed delivers it, in order', async () => {
    follow();
    server.latest().emit(1, snapshot(['a']));
    const sending = follower.send('hello');
    const [pending] = follower.getState().pending;
    expect(pending).toEqual({
      clientMessageId: expect.stringMatching(/^[0-9a-f]{32}$/),
      body: 'hello',
      status: 'sending',
      error: null,
    });
    await settle();
    const request = server.request('chat.send');
    expect(request.input).toEqual({
      roomId: 'general',
      body: 'hello',
      clientMessageId: pending?.clientMessageId,
    });
    const sent = echo('b', pending?.clientMessageId);
    request.answer(sent.message);
    await expect(sending).resolves.toMatchObject({ id: 'b' });
    // Acknowledged, but still pending until the feed shows it in the room's order.
    expect(ids(follower.getState())).toEqual(['a']);
    expect(follower.getState().pending).toHaveLength(1);
    const seen: FollowedRoom[] = [];
    follower.subscribe((state) => seen.push(state));
    server.latest().emit(2, sent);
    expect(ids(follower.getState())).toEqual(['a', 'b']);
    expect(follower.getState().pending).toEqual([]);
    // One change: the message appears as the pending one leaves, never neither nor both.
    expect(seen).toHaveLength(1);
  });

  it('shows a vote at once and settles to the counts the server answers', async () => {
    follow();
    server.latest().emit(1, snapshot(['a']));
    const voting = follower.vote('a', 'up');
    expect(follower.getState().messages[0]).toMatchObject({ up: 1, down: 0, myVote: 'up' });
    await settle();
    server.request('chat.vote').answer({ messageId: 'a', up: 3, down: 1, myVote: 'up' });
    await voting;
    expect(follower.getState().messages[0]).toMatchObject({ up: 3, down: 1, myVote: 'up' });
  });

  it('takes a refused vote back and passes the error on', async () => {
    follow();
    server.latest().emit(1, {
      type: 'snapshot',
      messages: [message('a', 2, 0, 'up')],
      hasMore: false,
      pinned: [],
    });
    const voting = follower.vote('a', 'down');
    expect(follower.getState().messages[0]).toMatchObject({ up: 1, down: 1, myVote: 'down' });
    await settle();
    server.request('chat.vote').fail(serverError('TOO_MANY_REQUESTS', 'Slow down'));
    await expect(voting).rejects.toThrow('Slow down');
    expect(follower.getState().messages[0]).toMatchObject({ up: 2, down: 0, myVote: 'up' });
  });

  it('lets a vote event that arrives while its own vote is in flight have the last word', async () => {
    const { voting, request } = await upvoteInFlight();
    server.latest().emit(2, voteOnA(1, 0, 'me', 'up'));
    server.latest().emit(3, voteOnA(2, 0, 'x', 'up'));
    request.answer({ messageId: 'a', up: 1, down: 0, myVote: 'up' });
    await voting;
    expect(follower.getState().messages[0]).toMatchObject({ up: 2, down: 0, myVote: 'up' });
  });

  it('takes back a refused vote but keeps counts the feed carried meanwhile', async () => {
    const { voting, request } = await upvoteInFlight();
    server.latest().emit(2, voteOnA(0, 1, 'x', 'down'));
    request.fail(serverError('TOO_MANY_REQUESTS', 'Slow down'));
    await expect(voting).rejects.toThrow('Slow down');
    expect(follower.getState().messages[0]).toMatchObject({ up: 0, down: 1, myVote: null });
  });

  it('predicts the counts the server will settle on', () => {
    expect(withVote(message('m', 2, 1, null), 'up')).toEqual({ up: 3, down: 1, myVote: 'up' });
    expect(withVote(message('m', 3, 1, 'up'), 'down')).toEqual({ up: 2, down: 2, myVote: 'down' });
    expect(withVote(message('m', 2, 2, 'down'), 'none')).toEqual({ up: 2, down: 1, myVote: null });
  });

  it('puts older pages before what it holds, once, one request at a time', async () => {
    follow();
    server.latest().emit(1, snapshot(['c', 'd'], true));
    const first = follower.loadOlder();
    const second = follower.loadOlder();
    await settle();
    const request = server.request('chat.history');
    expect(request.input).toEqual({ roomId: 'general', before: 'c', limit: 50 });
    expect(() => server.request('chat.history')).toThrow('no chat.history request');
    request.answer({ messages: [message('a'), message('b'), message('c')], hasMore: false });
    await Promise.all([first, second]);
    expect(ids(follower.getState())).toEqual(['a', 'b', 'c', 'd']);
    expect(follower.getState().hasMore).toBe(false);

    await follower.loadOlder();
    expect(server.requests).toEqual([]);
  });

  it('drops an older page when a fresh snapshot replaced what it was meant to go before', async () => {
    follow();
    server.latest().emit(1, snapshot(['c', 'd'], true));
    const loading = follower.loadOlder();
    await settle();
    const request = server.request('chat.history');
    server.latest().emit(600, snapshot(['x', 'y'], true));
    request.answer({ messages: [message('a'), message('b')], hasMore: false });
    await loading;
    expect(ids(follower.getState())).toEqual(['x', 'y']);
    expect(follower.getState().hasMore).toBe(true);
  });
});

describe('sending exactly once', () => {
  /** Follows a live room and starts sending `body`; returns its client id and the first request. */
  async function sendInFlight(body = 'hello') {
    follow({ random: () => 0 });
    server.latest().emit(1, snapshot([]));
    const sending = follower.send(body);
    sending.catch(() => {});
    await settle();
    const clientMessageId = follower.getState().pending[0]?.clientMessageId ?? '';
    return { sending, clientMessageId, request: server.request('chat.send') };
  }

  it('sends again with the same client id after an attempt got no answer', async () => {
    const { sending, clientMessageId, request } = await sendInFlight();
    request.fail(connectionLost());
    await settle();
    expect(follower.getState().pending).toEqual([
      {
        clientMessageId,
        body: 'hello',
        status: 'sending',
        error: 'Cannot reach the server; check your connection and try again',
      },
    ]);
    expect(server.requests).toEqual([]);
    await vi.advanceTimersByTimeAsync(DEFAULT_BACKOFF.initialMs);
    const again = server.request('chat.send');
    expect(again.input).toEqual({ roomId: 'general', body: 'hello', clientMessageId });
    // The server may be briefly unavailable too: still the same id, after a longer wait.
    again.fail(serverError('SERVICE_UNAVAILABLE', 'The database is unavailable right now'));
    await vi.advanceTimersByTimeAsync(2 * DEFAULT_BACKOFF.initialMs);
    const third = server.request('chat.send');
    expect(third.input).toMatchObject({ clientMessageId });
    const sent = echo('m', clientMessageId);
    third.answer(sent.message);
    await expect(sending).resolves.toMatchObject({ id: 'm' });
    server.latest().emit(2, sent);
    expect(follower.getState().pending).toEqual([]);
    expect(ids(follower.getState())).toEqual(['m']);
  });

  it('drops the pending message when its echo arrives before any answer', async () => {
    const { clientMessageId, request } = await sendInFlight();
    server.latest().emit(2, echo('m', clientMessageId));
    expect(follower.getState().pending).toEqual([]);
    request.answer(echo('m', clientMessageId).message);
    expect(ids(follower.getState())).toEqual(['m']);
  });

  it('keeps a refused message as failed, in words, until it is retried or discarded', async () => {
    const { sending, clientMessageId, request } = await sendInFlight('too much');
    request.fail(serverError('TOO_MANY_REQUESTS', 'You are sending messages too fast; slow down'));
    await expect(sending).rejects.toThrow('too fast');
    expect(follower.getState().pending).toEqual([
      {
        clientMessageId,
        body: 'too much',
        status: 'failed',
        error: 'You are sending messages too fast; slow down',
      },
    ]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.requests).toEqual([]);

    const retrying = follower.retry(clientMessageId);
    expect(follower.getState().pending[0]).toMatchObject({ status: 'sending', error: null });
    await settle();
    const again = server.request('chat.send');
    expect(again.input).toMatchObject({ clientMessageId, body: 'too much' });
    again.fail(serverError('BAD_REQUEST', 'Message must be at most 2000 characters'));
    await expect(retrying).rejects.toThrow('2000');
    follower.discard(clientMessageId);
    expect(follower.getState().pending).toEqual([]);
    await expect(follower.retry(clientMessageId)).rejects.toThrow('no such message');
  });

  it('gives up a message waiting to be sent again when the follower closes', async () => {
    const { sending, request } = await sendInFlight();
    request.fail(connectionLost());
    await settle();
    follower.close();
    await expect(sending).rejects.toThrow('Stopped following the room');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.requests).toEqual([]);
  });

  it('gives every message its own client id', async () => {
    follow();
    for (let i = 0; i < 20; i++) follower.send(`${i}`).catch(() => {});
    const idsSent = follower.getState().pending.map((p) => p.clientMessageId);
    expect(new Set(idsSent).size).toBe(20);
  });
});

describe('moderating, typing and reading', () => {
  it('passes edits, removals, pins and answers to the server as the reader asked', async () => {
    follow();
    const calls = [
      follower.edit('a', 'better'),
      follower.remove('b'),
      follower.pin('c', true),
      follower.markAnswered('d', false),
    ];
    await settle();
    expect(server.requests.map(({ path, input }) => [path, input])).toEqual([
      ['chat.edit', { messageId: 'a', body: 'better' }],
      ['chat.remove', { messageId: 'b' }],
      ['chat.pin', { messageId: 'c', pinned: true }],
      ['chat.markAnswered', { messageId: 'd', answered: false }],
    ]);
    const forbidden = serverError('FORBIDDEN', "Only the room's owner, ada, can pin messages");
    for (const request of [...server.requests]) {
      if (request.path === 'chat.pin') request.fail(forbidden);
      else request.answer({ messageId: 'x' });
    }
    const results = await Promise.allSettled(calls);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
  });

  it('sends one typing signal per interval however often it is called, and ignores failures', async () => {
    follow();
    for (let i = 0; i < 10; i++) follower.typing();
    await settle();
    const first = server.request('chat.typing');
    expect(first.input).toEqual({ roomId: 'general' });
    first.fail(connectionLost());
    await vi.advanceTimersByTimeAsync(LIMITS.typingIntervalMs - 1);
    follower.typing();
    await settle();
    expect(server.requests).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    follower.typing();
    await settle();
    expect(server.request('chat.typing').input).toEqual({ roomId: 'general' });
  });

  it('marks read up to the latest event held, at most once a second, and only what is new', async () => {
    follow();
    follower.markRead();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(server.requests).toEqual([]); // nothing held yet
    server.latest().emit(7, snapshot(['a']));
    follower.markRead();
    follower.markRead();
    await vi.advanceTimersByTimeAsync(0);
    const first = server.request('chat.markRead');
    expect(first.input).toEqual({ roomId: 'general', eventId: '7' });
    first.answer(undefined);
    server.latest().emit(8, posted('b'));
    follower.markRead();
    server.latest().emit(9, posted('c'));
    follower.markRead();
    await vi.advanceTimersByTimeAsync(999);
    expect(server.requests).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const second = server.request('chat.markRead');
    expect(second.input).toEqual({ roomId: 'general', eventId: '9' });
    // A failed one is sent again by the next call; one already marked is not.
    second.fail(connectionLost());
    await vi.advanceTimersByTimeAsync(1_000);
    follower.markRead();
    await vi.advanceTimersByTimeAsync(1_000);
    const third = server.request('chat.markRead');
    expect(third.input).toEqual({ roomId: 'general', eventId: '9' });
    third.answer(undefined);
    await vi.advanceTimersByTimeAsync(1_000);
    follower.markRead();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.requests).toEqual([]);
  });

  it('sends a read mark still waiting for its interval when the reader leaves the room', async () => {
    follow();
    server.latest().emit(3, snapshot(['a']));
    follower.markRead();
    await vi.advanceTimersByTimeAsync(0);
    server.request('chat.markRead').answer(undefined);
    server.latest().emit(4, posted('b'));
    follower.markRead();
    await vi.advanceTimersByTimeAsync(300);
    expect(server.requests).toEqual([]);
    follower.close();
    expect(server.request('chat.markRead').input).toEqual({ roomId: 'general', eventId: '4' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(server.requests).toEqual([]);
  });

  it('shows who is online, who else is typing and the pinned messages', () => {
    follow();
    const ada = { id: 'ada', username: 'ada' };
    const me = { id: 'me', username: 'me' };
    server.latest().emit(1, {
      type: 'snapshot',
      messages: [message('a')],
      hasMore: false,
      pinned: [message('old')],
    });
    server.latest().emit(1, { type: 'presence', online: 2, users: [ada, me] });
    server.latest().emit(1, { type: 'typing', users: [ada, me] });
    const state = follower.getState();
    expect(state.onlineUsers).toEqual([ada, me]);
    expect(state.typing).toEqual([ada]);
    expect(state.pinned.map((m) => m.id)).toEqual(['old']);
  });
});
