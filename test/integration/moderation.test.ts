import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatHubConnection, connect, createApiClient } from '../../src/client/index.js';
import type { LoggedEvent } from '../../src/contract/events.js';
import { LIMITS } from '../../src/contract/limits.js';
import { failure } from '../helpers/errors.js';
import { EventLog } from '../helpers/events.js';
import {
  NodeWebSocket,
  PASSWORD,
  startTestServer,
  type TestServer,
  uniqueName,
} from '../helpers/server.js';

/*
 * Edits, removals, pins, answers, typing, read positions and exactly-once sends over real
 * sockets with the typed client: each seen live by another member and after a resume.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** A room `owner` created, and two more people. */
async function room() {
  const owner = await server.user(uniqueName('owner'));
  const alice = await server.user(uniqueName('alice'));
  const bob = await server.user(uniqueName('bob'));
  const { id: roomId } = await owner.rooms.create.mutate({ name: uniqueName('Room') });
  return { roomId, owner, alice, bob };
}

const live = async (connection: ChatHubConnection, roomId: string, lastEventId?: string) => {
  const log = EventLog.open(connection, roomId, lastEventId);
  await log.waitFor(() => log.online() !== undefined, 'caught up');
  return log;
};
/** The logged events a log received, in order (snapshots, presence and typing left out). */
const loggedEvents = (log: EventLog): LoggedEvent[] =>
  log.received.flatMap(({ event }) =>
    event.type === 'snapshot' || event.type === 'presence' || event.type === 'typing'
      ? []
      : [event],
  );
const loggedTypes = (log: EventLog) => loggedEvents(log).map((event) => event.type);
/** The room's whole log, as a replay from the start shows it to `reader`. */
const logOf = async (reader: ChatHubConnection, roomId: string): Promise<LoggedEvent[]> => {
  const log = await live(reader, roomId, '0');
  log.close();
  return loggedEvents(log);
};

describe('rooms have owners', () => {
  it('rooms.list and rooms.get say who created a room; general has none', async () => {
    const { roomId, owner } = await room();
    const me = owner.session().user;
    expect(await owner.rooms.get.query({ id: roomId })).toMatchObject({ owner: me });
    const { name } = await owner.rooms.get.query({ id: roomId });
    const { rooms } = await owner.rooms.list.query({ query: name });
    expect(rooms).toEqual([expect.objectContaining({ id: roomId, owner: me })]);
    expect(await owner.rooms.get.query({ id: 'general' })).toMatchObject({ owner: null });
  });
});

describe('the configured admin', () => {
  it('looks after general once they have signed up (ADMIN_USERNAME)', async () => {
    const admin = uniqueName('admin');
    const withAdmin = await startTestServer({ ADMIN_USERNAME: admin });
    try {
      const someone = await withAdmin.user(uniqueName('someone'));
      expect(await someone.rooms.get.query({ id: 'general' })).toMatchObject({ owner: null });
      const boss = await withAdmin.user(admin);
      expect(await someone.rooms.get.query({ id: 'general' })).toMatchObject({
        owner: boss.session().user,
      });
      const sent = await someone.chat.send.mutate({ roomId: 'general', body: 'pin me' });
      expect(
        (await failure(someone.chat.pin.mutate({ messageId: sent.id, pinned: true }))).message,
      ).toBe(`Only the room's owner, ${admin}, can pin messages`);
      await expect(
        boss.chat.pin.mutate({ messageId: sent.id, pinned: true }),
      ).resolves.toMatchObject({
        pinned: true,
      });
      await boss.chat.remove.mutate({ messageId: sent.id });
      const { rooms } = await someone.rooms.list.query({ query: 'general' });
      expect(rooms[0]).toMatchObject({ id: 'general', owner: boss.session().user });
    } finally {
      await withAdmin.stop();
    }
  });
});

describe('edits', () => {
  it('reach other members live and after a resume, marked edited with the time', async () => {
    const { roomId, alice, bob } = await room();
    const bobLog = await live(bob, roomId);
    const sent = await alice.chat.send.mutate({ roomId, body: 'helo' });
    await bobLog.waitFor(() => bobLog.messages().length === 1, 'the message');
    const resumeFrom = bobLog.lastId();
    bobLog.close();

    const before = Date.now();
    const edited = await alice.chat.edit.mutate({ messageId: sent.id, body: '  hello  ' });
    expect(edited).toMatchObject({ id: sent.id, body: 'hello' });
    expect(edited.editedAt).toBeGreaterThanOrEqual(before);

    const watcher = await live(alice, roomId);
    expect(watcher.messages()).toEqual([expect.objectContaining({ body: 'hello' })]);
    const resumed = await live(bob, roomId, resumeFrom);
    expect(resumed.received.map((r) => r.event.type)).not.toContain('snapshot');
    expect(loggedTypes(resumed)).toEqual(['edit']);

    const again = await live(bob, roomId);
    await alice.chat.edit.mutate({ messageId: sent.id, body: 'hello again' });
    await again.waitFor(() => again.messages()[0]?.body === 'hello again', 'live edit');
    expect(again.messages()[0]).toMatchObject({ editedAt: expect.any(Number) });
  });

  it("someone else's message is FORBIDDEN and changes nothing; the body rules are send's", async () => {
    const { roomId, alice, bob, owner } = await room();
    const sent = await alice.chat.send.mutate({ roomId, body: 'mine' });
    for (const intruder of [bob, owner]) {
      expect(await failure(intruder.chat.edit.mutate({ messageId: sent.id, body: 'x' }))).toEqual({
        code: 'FORBIDDEN',
        message: 'You can only edit your own messages',
      });
    }
    expect(await failure(alice.chat.edit.mutate({ messageId: sent.id, body: ' \u200b ' }))).toEqual(
      { code: 'BAD_REQUEST', message: 'Message cannot be empty' },
    );
    expect(
      (
        await failure(
          alice.chat.edit.mutate({ messageId: sent.id, body: 'x'.repeat(LIMITS.messageMax + 1) }),
        )
      ).code,
    ).toBe('BAD_REQUEST');
    expect(await logOf(alice, roomId)).toHaveLength(1);
    expect((await alice.chat.history.query({ roomId })).messages[0]?.body).toBe('mine');
  });
});

describe('removals', () => {
  it('leave a tombstone everywhere: live, in history, in a snapshot and in a replay', async () => {
    const { roomId, alice, bob } = await room();
    const bobLog = await live(bob, roomId);
    const secret = `secret ${uniqueName('s')}`;
    const sent = await alice.chat.send.mutate({ roomId, body: secret });
    await alice.chat.edit.mutate({ messageId: sent.id, body: `${secret} (edited)` });
    await bob.chat.vote.mutate({ messageId: sent.id, vote: 'up' });
    await bobLog.waitFor(() => bobLog.messages()[0]?.up === 1, 'the vote');

    expect(await alice.chat.remove.mutate({ messageId: sent.id })).toEqual({ messageId: sent.id });
    await bobLog.waitFor(() => bobLog.messages()[0]?.removed === true, 'the tombstone live');
    expect(bobLog.messages()[0]).toMatchObject({ body: '', up: 1, removed: true });

    const history = await bob.chat.history.query({ roomId });
    expect(history.messages).toEqual([expect.objectContaining({ id: sent.id, body: '' })]);
    const fresh = await live(bob, roomId);
    const replay = await live(bob, roomId, '0');
    for (const log of [fresh, replay]) {
      expect(JSON.stringify(log.received)).not.toContain('secret');
      expect(log.messages()).toEqual([expect.objectContaining({ removed: true, body: '' })]);
    }
    expect(loggedTypes(replay)).toEqual(['message', 'edit', 'vote', 'remove']);
  });

  it("by the room's owner; FORBIDDEN for anyone else, with who may; votes frozen after", async () => {
    const { roomId, owner, alice, bob } = await room();
    const sent = await alice.chat.send.mutate({ roomId, body: 'take me down' });
    expect(await failure(bob.chat.remove.mutate({ messageId: sent.id }))).toEqual({
      code: 'FORBIDDEN',
      message: `You can only remove your own messages; the room's owner, ${owner.session().user.username}, can remove others'`,
    });
    expect(await logOf(bob, roomId)).toHaveLength(1);

    const bobLog = await live(bob, roomId);
    await owner.chat.remove.mutate({ messageId: sent.id });
    await bobLog.waitFor(() => bobLog.messages()[0]?.removed === true, 'removed by the owner');
    expect((await logOf(bob, roomId)).at(-1)).toMatchObject({ type: 'remove', by: 'owner' });
    // Again: nothing new. Votes, edits, pins: refused in words.
    await alice.chat.remove.mutate({ messageId: sent.id });
    expect(await failure(bob.chat.vote.mutate({ messageId: sent.id, vote: 'up' }))).toEqual({
      code: 'PRECONDITION_FAILED',
      message: 'This message was removed; its votes are frozen',
    });
    expect(await failure(alice.chat.edit.mutate({ messageId: sent.id, body: 'back' }))).toEqual({
      code: 'PRECONDITION_FAILED',
      message: 'This message was removed',
    });
    expect(await failure(owner.chat.pin.mutate({ messageId: sent.id, pinned: true }))).toEqual({
      code: 'PRECONDITION_FAILED',
      message: 'This message was removed',
    });
    expect(await logOf(bob, roomId)).toHaveLength(2);
  });
});

describe('pins and answers', () => {
  it("are the owner's: pinned first in every snapshot, answered marked, live and after a resume", async () => {
    const { roomId, owner, alice, bob } = await room();
    const question = await alice.chat.send.mutate({ roomId, body: 'when is the talk?' });
    const bobLog = await live(bob, roomId);
    const resumeFrom = bobLog.lastId();

    expect(await owner.chat.pin.mutate({ messageId: question.id, pinned: true })).toMatchObject({
      pinned: true,
    });
    expect(
      await owner.chat.markAnswered.mutate({ messageId: question.id, answered: true }),
    ).toMatchObject({ pinned: true, answered: true });
    await bobLog.waitFor(() => bobLog.state().pinned.length === 1, 'pinned live');
    await bobLog.waitFor(() => bobLog.messages()[0]?.answered === true, 'answered live');

    const resumed = await live(bob, roomId, resumeFrom);
    expect(loggedTypes(resumed)).toEqual(['pin', 'answer']);
    // A newcomer whose snapshot holds none of the messages still gets the pinned one.
    // Three writers, so the messages stay within each one's burst allowance.
    const writers = await Promise.all([1, 2, 3].map((i) => server.fastUser(uniqueName(`w${i}-`))));
    for (let i = 0; i < LIMITS.snapshotSize; i++) {
      const writer = writers[i % writers.length]?.user;
      if (!writer) throw new Error('no writer');
      await server.chat.messages.send(writer, { roomId, body: `${i}` });
    }
    const newcomer = await live(bob, roomId);
    expect(newcomer.messages().map((m) => m.id)).not.toContain(question.id);
    expect(newcomer.state().pinned).toEqual([
      expect.objectContaining({ id: question.id, pinned: true, answered: true }),
    ]);
  });

  it('are FORBIDDEN to anyone but the owner, naming the owner, and change nothing', async () => {
    const { roomId, owner, alice } = await room();
    const sent = await alice.chat.send.mutate({ roomId, body: 'pin me' });
    const name = owner.session().user.username;
    expect(await failure(alice.chat.pin.mutate({ messageId: sent.id, pinned: true }))).toEqual({
      code: 'FORBIDDEN',
      message: `Only the room's owner, ${name}, can pin messages`,
    });
    expect(
      await failure(alice.chat.markAnswered.mutate({ messageId: sent.id, answered: true })),
    ).toEqual({
      code: 'FORBIDDEN',
      message: `Only the room's owner, ${name}, can mark messages answered`,
    });
    const generalMessage = await alice.chat.send.mutate({ roomId: 'general', body: 'hi' });
    expect(
      await failure(owner.chat.pin.mutate({ messageId: generalMessage.id, pinned: true })),
    ).toEqual({
      code: 'FORBIDDEN',
      message: "Only a room's owner can pin messages, and this room has none",
    });
    expect(await logOf(alice, roomId)).toHaveLength(1);
  });
});

describe('typing', () => {
  it('reaches the others (not the typist), expires, and is never replayed', async () => {
    const { roomId, alice, bob } = await room();
    const aliceLog = await live(alice, roomId);
    const bobLog = await live(bob, roomId);
    await alice.chat.typing.mutate({ roomId });
    await bobLog.waitFor(() => bobLog.state().typing.length === 1, 'alice typing');
    expect(bobLog.state().typing).toEqual([alice.session().user]);
    await aliceLog.waitFor(
      () => aliceLog.received.some((r) => r.event.type === 'typing'),
      'the signal',
    );
    expect(aliceLog.state().typing).toEqual([]);

    // A second signal inside the interval is answered, not sent on.
    await alice.chat.typing.mutate({ roomId });
    const signals = () => bobLog.received.filter((r) => r.event.type === 'typing').length;
    expect(signals()).toBe(1);
    await bobLog.waitFor(
      () => bobLog.state().typing.length === 0,
      'the signal expired',
      LIMITS.typingTtlMs + 5_000,
    );
    expect(signals()).toBe(2);

    const resumed = await live(bob, roomId, '0');
    expect(resumed.received.some((r) => r.event.type === 'typing')).toBe(false);
  });

  it('stops showing someone once their message arrives; needs a real room', async () => {
    const { roomId, alice, bob } = await room();
    const bobLog = await live(bob, roomId);
    await alice.chat.typing.mutate({ roomId });
    await bobLog.waitFor(() => bobLog.state().typing.length === 1, 'alice typing');
    await alice.chat.send.mutate({ roomId, body: 'done' });
    await bobLog.waitFor(() => bobLog.messages().length === 1, 'the message');
    expect(bobLog.state().typing).toEqual([]);
    expect(await failure(bob.chat.typing.mutate({ roomId: 'no-such-room' }))).toEqual({
      code: 'NOT_FOUND',
      message: 'There is no room "no-such-room"',
    });
  });
});

describe('read positions', () => {
  it('give unread counts in rooms.list, the same on every device, only for the signed-in', async () => {
    const { roomId, alice, bob } = await room();
    const { name } = await bob.rooms.get.query({ id: roomId });
    const unread = async (who: ChatHubConnection) =>
      (await who.rooms.list.query({ query: name })).rooms[0]?.unread;
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await alice.chat.send.mutate({ roomId, body: `${i}` }));
    await bob.chat.send.mutate({ roomId, body: 'mine does not count' });
    expect(await unread(bob)).toBe(3);
    expect(await unread(alice)).toBe(1);

    // Up to the second of alice's messages (the room's second entry).
    await bob.chat.markRead.mutate({ roomId, eventId: '2' });
    expect(await unread(bob)).toBe(1);
    // Another device of bob's sees the same, and an older position does not move it back.
    const bobElsewhere = await connect({
      apiUrl: server.apiUrl,
      username: bob.session().user.username,
      password: PASSWORD,
      WebSocket: NodeWebSocket,
    });
    try {
      await bobElsewhere.chat.markRead.mutate({ roomId, eventId: '1' });
      expect(await unread(bobElsewhere)).toBe(1);
    } finally {
      await bobElsewhere.close();
    }
    expect(await unread(bob)).toBe(1);
    await alice.chat.remove.mutate({ messageId: sent[2]?.id ?? '' });
    expect(await unread(bob)).toBe(0);
    // Without a session the directory is the same, but counts nobody's reading.
    const anonymous = await createApiClient(server.apiUrl).rooms.list.query({ query: name });
    expect(anonymous.rooms[0]).toMatchObject({ id: roomId, unread: null });
    expect(
      await failure(bob.chat.markRead.mutate({ roomId: 'no-such-room', eventId: '1' })),
    ).toEqual({ code: 'NOT_FOUND', message: 'There is no room "no-such-room"' });
  });
});

describe('unread counts', () => {
  it(`stop at ${LIMITS.unreadCountMax}`, async () => {
    const { roomId, bob } = await room();
    // Six writers, so the messages stay within each one's burst allowance.
    const writers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => server.fastUser(uniqueName(`many${i}-`))),
    );
    for (let i = 0; i <= LIMITS.unreadCountMax; i++) {
      const writer = writers[i % writers.length]?.user;
      if (!writer) throw new Error('no writer');
      await server.chat.messages.send(writer, { roomId, body: `${i}` });
    }
    const { name } = await bob.rooms.get.query({ id: roomId });
    const { rooms } = await bob.rooms.list.query({ query: name });
    expect(rooms[0]?.unread).toBe(LIMITS.unreadCountMax);
    await bob.chat.markRead.mutate({ roomId, eventId: '2' });
    expect((await bob.rooms.list.query({ query: name })).rooms[0]?.unread).toBe(
      LIMITS.unreadCountMax - 1,
    );
  });
});

describe('exactly-once sends', () => {
  it('a retry with the same clientMessageId returns the original and posts nothing', async () => {
    const { roomId, alice, bob } = await room();
    const bobLog = await live(bob, roomId);
    const first = await alice.chat.send.mutate({ roomId, body: 'once', clientMessageId: 'tx-1' });
    const retry = await alice.chat.send.mutate({ roomId, body: 'once', clientMessageId: 'tx-1' });
    expect(retry).toEqual(first);
    expect(first.clientMessageId).toBe('tx-1');
    const next = await alice.chat.send.mutate({ roomId, body: 'twice', clientMessageId: 'tx-2' });
    await bobLog.waitFor(() => bobLog.messages().length === 2, 'both');
    expect(bobLog.messages().map((m) => m.id)).toEqual([first.id, next.id]);
    expect(await logOf(bob, roomId)).toHaveLength(2);
    expect(
      await failure(alice.chat.send.mutate({ roomId, body: 'x', clientMessageId: 'no spaces' })),
    ).toEqual({
      code: 'BAD_REQUEST',
      message: 'Client message id may only contain letters, digits, "_" and "-"',
    });
    const longest = 'x'.repeat(LIMITS.clientMessageIdMax);
    await expect(
      alice.chat.send.mutate({ roomId, body: 'x', clientMessageId: longest }),
    ).resolves.toMatchObject({ clientMessageId: longest });
    expect(
      await failure(alice.chat.send.mutate({ roomId, body: 'x', clientMessageId: `${longest}x` })),
    ).toEqual({
      code: 'BAD_REQUEST',
      message: `Client message id must be at most ${LIMITS.clientMessageIdMax} characters`,
    });
  });
});

describe('rate limits', () => {
  it("edits, removals, pins and answers spend the sender's message tokens", async () => {
    const tight = await startTestServer(
      {},
      { rateLimits: { messages: { perSecond: 0.01, burst: 4 } } },
    );
    try {
      const owner = await tight.user(uniqueName('busy'));
      const bystander = await tight.user(uniqueName('calm'));
      const { id: roomId } = await owner.rooms.create.mutate({ name: uniqueName('Tight') });
      const sent = await owner.chat.send.mutate({ roomId, body: 'one' });
      await owner.chat.edit.mutate({ messageId: sent.id, body: 'two' });
      await owner.chat.pin.mutate({ messageId: sent.id, pinned: true });
      await owner.chat.markAnswered.mutate({ messageId: sent.id, answered: true });
      const tooFast = {
        code: 'TOO_MANY_REQUESTS',
        message: 'You are sending messages too fast; slow down',
      };
      expect(await failure(owner.chat.remove.mutate({ messageId: sent.id }))).toEqual(tooFast);
      expect(await failure(owner.chat.send.mutate({ roomId, body: 'three' }))).toEqual(tooFast);
      expect(await failure(owner.chat.edit.mutate({ messageId: sent.id, body: 'x' }))).toEqual(
        tooFast,
      );
      // Everyone has their own tokens.
      await expect(bystander.chat.send.mutate({ roomId, body: 'fine' })).resolves.toBeDefined();
      expect((await owner.chat.history.query({ roomId })).messages[0]).toMatchObject({
        body: 'two',
        removed: false,
      });
    } finally {
      await tight.stop();
    }
  });
});

describe('presence names', () => {
  it(`names who is online, at most ${LIMITS.presenceNamesMax} in name order, with the total`, async () => {
    const { roomId, alice } = await room();
    const aliceLog = await live(alice, roomId);
    const crowd = await Promise.all(
      Array.from({ length: LIMITS.presenceNamesMax + 1 }, (_, i) =>
        server.fastUser(uniqueName(`z${String(i).padStart(2, '0')}-`)),
      ),
    );
    const subscriptions = crowd.map(({ token }) =>
      server.chatClient(token).chat.chat.events.subscribe({ roomId }, { onData: () => {} }),
    );
    const everyone = LIMITS.presenceNamesMax + 2;
    await aliceLog.waitFor(() => aliceLog.online() === everyone, 'everyone online', 15_000);
    const { onlineUsers } = aliceLog.state();
    expect(onlineUsers).toHaveLength(LIMITS.presenceNamesMax);
    expect(onlineUsers[0]).toEqual(alice.session().user);
    const names = onlineUsers.map((user) => user.username.toLowerCase());
    expect(names).toEqual([...names].sort());
    for (const subscription of subscriptions) subscription.unsubscribe();
    await aliceLog.waitFor(() => aliceLog.online() === 1, 'the crowd gone', 15_000);
    expect(aliceLog.state().onlineUsers).toEqual([alice.session().user]);
  });
});
