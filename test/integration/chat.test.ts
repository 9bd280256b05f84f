import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageView } from '../../src/contract/models.js';
import { failure } from '../helpers/errors.js';
import { EventLog } from '../helpers/events.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

async function freshRoom(): Promise<string> {
  return (await server.running.services.rooms.create(uniqueName('room'))).id;
}

const hasSnapshot = (log: EventLog) => () => log.received.some((r) => r.event.type === 'snapshot');
const bodies = (messages: MessageView[]) => messages.map((m) => m.body);

describe('chat over WebSocket with the stock tRPC client', () => {
  it('shows two users each other’s messages and votes live', async () => {
    const roomId = await freshRoom();
    const alice = await server.user(uniqueName('alice'));
    const bob = await server.user(uniqueName('bob'));
    const aliceLog = EventLog.open(alice, roomId);
    const bobLog = EventLog.open(bob, roomId);
    await aliceLog.waitFor(() => aliceLog.online() === 2, 'both online');

    const sent = await alice.chat.send.mutate({ roomId, body: '  hello bob  ' });
    expect(sent.body).toBe('hello bob');
    expect(sent.author).toEqual(alice.session().user);
    await bobLog.waitFor(() => bodies(bobLog.messages()).includes('hello bob'), 'bob sees it');

    const vote = await bob.chat.vote.mutate({ messageId: sent.id, vote: 'up' });
    expect(vote).toEqual({ messageId: sent.id, up: 1, down: 0, myVote: 'up' });
    await aliceLog.waitFor(() => aliceLog.messages()[0]?.up === 1, 'alice sees the upvote');
    const voteEvent = aliceLog.received.find((r) => r.event.type === 'vote')?.event;
    expect(voteEvent).toMatchObject({ voterId: bob.session().user.id, vote: 'up' });

    const reply = await bob.chat.send.mutate({ roomId, body: 'hi alice' });
    await aliceLog.waitFor(() => aliceLog.messages().length === 2, 'reply');
    expect(aliceLog.messages().map((m) => m.id)).toEqual([sent.id, reply.id]);
    expect(bobLog.messages().map((m) => m.id)).toEqual([sent.id, reply.id]);
  });

  it('starts with the latest 50 messages and pages older ones by cursor', async () => {
    const roomId = await freshRoom();
    // Three writers, so 60 messages stay within each one's burst allowance.
    const writers = await Promise.all(
      [1, 2, 3].map((i) => server.fastUser(uniqueName(`writer${i}-`))),
    );
    for (let i = 0; i < 60; i++) {
      const writer = writers[i % writers.length]?.user;
      if (!writer) throw new Error('no writer');
      await server.chat.messages.send(writer, { roomId, body: `m${i}` });
    }
    const reader = await server.user(uniqueName('reader'));
    const log = EventLog.open(reader, roomId);
    await log.waitFor(hasSnapshot(log), 'snapshot');
    const snapshot = log.received[0]?.event;
    if (snapshot?.type !== 'snapshot') throw new Error('first event must be the snapshot');
    expect(bodies(snapshot.messages)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i + 10}`));
    expect(snapshot.hasMore).toBe(true);

    const older = await reader.chat.history.query({
      roomId,
      before: snapshot.messages[0]?.id,
      limit: 8,
    });
    expect(bodies(older.messages)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    expect(older.hasMore).toBe(true);
    const oldest = await reader.chat.history.query({
      roomId,
      before: older.messages[0]?.id,
      limit: 8,
    });
    expect(bodies(oldest.messages)).toEqual(['m0', 'm1']);
    expect(oldest.hasMore).toBe(false);
  });

  it('counts distinct users online: two tabs are one user', async () => {
    const roomId = await freshRoom();
    const { user: carol, token: carolToken } = await server.fastUser(uniqueName('carol'));
    const { token: daveToken } = await server.fastUser(uniqueName('dave'));
    const watcher = await server.user(uniqueName('watcher'));
    const log = EventLog.open(watcher, roomId);
    await log.waitFor(() => log.online() === 1, 'watcher alone');

    const tabs = [server.chatClient(carolToken), server.chatClient(carolToken)];
    const subscriptions = tabs.map((tab) =>
      tab.chat.chat.events.subscribe({ roomId }, { onData: () => {} }),
    );
    await log.waitFor(() => log.online() === 2, 'carol counted once');
    const dave = server.chatClient(daveToken);
    const daveSubscription = dave.chat.chat.events.subscribe({ roomId }, { onData: () => {} });
    await log.waitFor(() => log.online() === 3, 'dave joins');
    const { name } = await watcher.rooms.get.query({ id: roomId });
    const { rooms } = await watcher.rooms.list.query({ query: name });
    expect(rooms.find((room) => room.id === roomId)?.online).toBe(3);

    subscriptions[0]?.unsubscribe();
    daveSubscription.unsubscribe();
    await log.waitFor(() => log.online() === 2, 'dave left, carol still has a tab');
    expect(carol.id).toBeTruthy();
    await tabs[1]?.socket.close();
    await log.waitFor(() => log.online() === 1, 'carol closed her last tab');
  });

  it('switches and takes back votes; each reader sees their own vote', async () => {
    const roomId = await freshRoom();
    const alice = await server.user(uniqueName('alice'));
    const bob = await server.user(uniqueName('bob'));
    const message = await alice.chat.send.mutate({ roomId, body: 'vote on me' });
    const { chat } = bob;

    expect(await chat.vote.mutate({ messageId: message.id, vote: 'up' })).toMatchObject({
      up: 1,
      down: 0,
    });
    expect(await chat.vote.mutate({ messageId: message.id, vote: 'down' })).toMatchObject({
      up: 0,
      down: 1,
    });
    expect(await chat.vote.mutate({ messageId: message.id, vote: 'down' })).toMatchObject({
      up: 0,
      down: 1,
    });
    const bobView = await chat.history.query({ roomId });
    expect(bobView.messages[0]).toMatchObject({ down: 1, myVote: 'down' });
    const aliceView = await alice.chat.history.query({ roomId });
    expect(aliceView.messages[0]).toMatchObject({ down: 1, myVote: null });
    expect(await chat.vote.mutate({ messageId: message.id, vote: 'none' })).toMatchObject({
      up: 0,
      down: 0,
    });
    expect((await chat.history.query({ roomId })).messages[0]).toMatchObject({
      up: 0,
      down: 0,
      myVote: null,
    });
  });

  it('keeps counts exact when 100 users vote on one message at the same moment', async () => {
    const roomId = await freshRoom();
    const author = await server.user(uniqueName('author'));
    const message = await author.chat.send.mutate({ roomId, body: 'poll' });
    const log = EventLog.open(author, roomId);
    await log.waitFor(hasSnapshot(log), 'snapshot');

    const voters = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const { token } = await server.fastUser(uniqueName(`voter${i}-`));
        return server.chatClient(token).chat;
      }),
    );
    const cast = (vote: 'up' | 'down' | 'none', who: typeof voters) =>
      Promise.all(who.map((voter) => voter.chat.vote.mutate({ messageId: message.id, vote })));

    await Promise.all([cast('up', voters.slice(0, 60)), cast('down', voters.slice(60))]);
    await log.waitFor(
      () => log.messages()[0]?.up === 60 && log.messages()[0]?.down === 40,
      '60/40',
    );

    // 30 switch sides and 10 withdraw, all at once, some repeating their current vote.
    await Promise.all([
      cast('down', voters.slice(0, 20)),
      cast('up', voters.slice(60, 70)),
      cast('none', voters.slice(20, 30)),
      cast('up', voters.slice(30, 40)),
    ]);
    const expected = { up: 60 - 20 - 10 + 10, down: 40 + 20 - 10 };
    await log.waitFor(
      () => log.messages()[0]?.up === expected.up && log.messages()[0]?.down === expected.down,
      'exact totals',
    );
    const stored = (await author.chat.history.query({ roomId })).messages[0];
    expect(stored).toMatchObject(expected);
    // Only real changes were logged: 100 first votes + 20 + 10 + 10 changes, none for repeats.
    const voteEvents = log.received.filter((r) => r.event.type === 'vote');
    expect(voteEvents).toHaveLength(140);
    expect(new Set(voteEvents.map((r) => r.id)).size).toBe(140);
  });

  it('rejects subscriptions and calls for rooms and messages that do not exist', async () => {
    const alice = await server.user(uniqueName('alice'));
    expect(await failure(alice.chat.history.query({ roomId: 'no-such-room' }))).toEqual({
      code: 'NOT_FOUND',
      message: 'There is no room "no-such-room"',
    });
    expect(
      await failure(alice.chat.send.mutate({ roomId: 'no-such-room', body: 'anyone?' })),
    ).toEqual({ code: 'NOT_FOUND', message: 'There is no room "no-such-room"' });
    expect(
      (
        await failure(
          alice.chat.vote.mutate({ messageId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', vote: 'up' }),
        )
      ).code,
    ).toBe('NOT_FOUND');
    const log = EventLog.open(alice, 'no-such-room');
    await log.waitFor(() => log.errors.length > 0, 'subscription error');
    expect(log.errors[0]?.message).toBe('There is no room "no-such-room"');
    expect(log.received).toHaveLength(0);
  });
});
