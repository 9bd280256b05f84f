import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventBus } from '../../src/bus/eventBus.js';
import { createMemoryBus } from '../../src/bus/memory.js';
import type { ChatEvent } from '../../src/contract/events.js';
import { LIMITS } from '../../src/contract/limits.js';
import {
  AS_SENT,
  type Message,
  type MessageView,
  type PublicUser,
} from '../../src/contract/models.js';
import { applyChatEvent, EMPTY_ROOM } from '../../src/contract/roomState.js';
import { ulid } from '../../src/domain/ids.js';
import { MessageService } from '../../src/domain/messages.js';
import { RateLimiter } from '../../src/domain/rateLimiter.js';
import { RoomService } from '../../src/domain/rooms.js';
import { RoomFeed } from '../../src/fanout/roomFeed.js';
import { RoomHub } from '../../src/fanout/roomHub.js';
import type { SharedEvent } from '../../src/fanout/sharedEvent.js';
import { FANOUT_LIMITS } from '../../src/limits.js';
import { createMemoryPresence } from '../../src/presence/memory.js';
import type { Presence } from '../../src/presence/presence.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import type { Store } from '../../src/storage/store.js';

interface Delivered {
  id: number;
  event: ChatEvent;
  /** True when it came through `shared` (the live fan-out), false through `own`. */
  shared: boolean;
}

/** A FeedSink that records everything, in order. */
class RecordingSink {
  readonly delivered: Delivered[] = [];
  shared = (event: SharedEvent) => {
    this.delivered.push({ id: Number(event.id), event: event.event, shared: true });
  };
  own = (id: string, event: ChatEvent) => {
    this.delivered.push({ id: Number(id), event, shared: false });
  };

  /** Sequence numbers of the log entries (messages, votes) delivered, in delivery order. */
  loggedSeqs(): number[] {
    return this.delivered
      .filter((d) => d.event.type === 'message' || d.event.type === 'vote')
      .map((d) => d.id);
  }
  snapshots(): Delivered[] {
    return this.delivered.filter((d) => d.event.type === 'snapshot');
  }
  /** The room as this subscriber sees it, like a client would rebuild it. */
  messages(): MessageView[] {
    return this.delivered.reduce(
      (room, { event }) => applyChatEvent(room, event, viewer.id),
      EMPTY_ROOM,
    ).messages;
  }
}

const viewer: PublicUser = { id: 'viewer-id', username: 'viewer' };
const authors: PublicUser[] = Array.from({ length: 4 }, (_, i) => ({
  id: `author-${i}`,
  username: `author${i}`,
}));
const unlimited = () => new RateLimiter({ perSecond: 1e9, burst: 1e9 });

let dir: string;
let store: Store;
let bus: EventBus;
let presence: Presence;
let hub: RoomHub;
let chat: MessageService;
let hubErrors: unknown[];
let roomCounter = 0;
const controllers: AbortController[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chathub-feed-'));
  store = openSqliteStore(join(dir, 'chathub.db'));
  bus = createMemoryBus();
  presence = createMemoryPresence();
  hubErrors = [];
  hub = new RoomHub({
    bus,
    presence,
    eventLog: store.messages,
    onError: (error) => hubErrors.push(error),
    onPresenceError: (error) => hubErrors.push(error),
  });
  const rooms = new RoomService(store, presence, {
    creations: { perSecond: 1000, burst: 1000 },
    ownedMax: 1000,
  });
  chat = new MessageService(store, bus, rooms, {
    messages: unlimited(),
    votes: unlimited(),
  });
});

afterEach(async () => {
  for (const controller of controllers.splice(0)) controller.abort();
  await hub.close();
  await bus.close();
  await presence.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  expect(hubErrors).toEqual([]);
});

async function newRoom(): Promise<string> {
  const id = `feed-room-${++roomCounter}`;
  await store.rooms.create({ id, name: id, createdAt: Date.now() });
  return id;
}

/** Starts a feed; resolves once it has caught up. */
async function subscribe(
  roomId: string,
  lastEventId: number | null = null,
  deps: { store?: Store; user?: PublicUser } = {},
) {
  const sink = new RecordingSink();
  const controller = new AbortController();
  controllers.push(controller);
  const feed = new RoomFeed(
    { store: deps.store ?? store, hub },
    { roomId, viewer: deps.user ?? viewer, lastEventId },
  );
  const piped = feed.pipe(sink, controller.signal);
  return { sink, controller, piped };
}

/** Appends straight to the store without publishing: history that predates the feed. */
async function appendQuietly(roomId: string, count: number): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < count; i++) {
    const message: Message = {
      id: ulid(),
      roomId,
      author: authors[0] as PublicUser,
      body: `old ${i}`,
      createdAt: Date.now(),
      up: 0,
      down: 0,
      ...AS_SENT,
    };
    await store.messages.append(message);
    out.push(message);
  }
  return out;
}

const online = async (roomId: string) => (await presence.count([roomId])).get(roomId);
const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const isNonDecreasing = (values: number[]) =>
  values.every((v, i) => i === 0 || v >= (values[i - 1] ?? 0));

/** What the room looks like in the store now, as `viewer` (who never votes) sees it. */
const storedMessages = async (roomId: string) =>
  (await store.messages.snapshot(roomId, LIMITS.snapshotSize, viewer.id)).messages;

describe('RoomFeed', () => {
  it('sends a first subscriber a snapshot, then the online count, then live events', async () => {
    const roomId = await newRoom();
    const old = await appendQuietly(roomId, 3);
    const { sink, piped } = await subscribe(roomId);
    await piped;

    expect(sink.delivered).toEqual([
      {
        id: 3,
        event: {
          type: 'snapshot',
          messages: old.map((m) => ({ ...m, myVote: null })),
          hasMore: false,
          pinned: [],
        },
        shared: false,
      },
      { id: 3, event: { type: 'presence', online: 1, users: [viewer] }, shared: false },
    ]);

    const sent = await chat.send(authors[1] as PublicUser, { roomId, body: 'live' });
    await chat.vote(authors[2] as PublicUser, { messageId: sent.id, vote: 'up' });
    expect(sink.delivered.slice(2)).toEqual([
      { id: 4, event: { type: 'message', message: sent }, shared: true },
      {
        id: 5,
        event: {
          type: 'vote',
          messageId: sent.id,
          up: 1,
          down: 0,
          voterId: 'author-2',
          vote: 'up',
        },
        shared: true,
      },
    ]);
  });

  it('delivers every logged seq exactly once, in order, when joining during concurrent writes', async () => {
    // Join at many different points of a stream of concurrent sends and votes.
    for (const joinAfterTicks of [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]) {
      const roomId = await newRoom();
      const producers = authors.map(async (author, p) => {
        const mine: string[] = [];
        for (let i = 0; i < 10; i++) {
          const message = await chat.send(author, { roomId, body: `${p}:${i}` });
          mine.push(message.id);
          const target = mine[Math.floor(i / 2)] as string;
          await chat.vote(author, { messageId: target, vote: i % 2 ? 'up' : 'down' });
        }
      });
      for (let tick = 0; tick < joinAfterTicks; tick++) await Promise.resolve();
      const { sink, piped } = await subscribe(roomId);
      await Promise.all([...producers, piped]);

      const head = await store.messages.head(roomId);
      expect(head).toBe(80);
      const [snapshot, ...moreSnapshots] = sink.snapshots();
      expect(moreSnapshots).toEqual([]);
      const from = snapshot?.id ?? 0;
      // Everything after the snapshot, each exactly once, in order, and nothing the snapshot
      // already covers.
      expect(sink.loggedSeqs(), `joined after ${joinAfterTicks} ticks`).toEqual(
        range(from + 1, head),
      );
      // Ids never go backwards, presence included.
      expect(isNonDecreasing(sink.delivered.map((d) => d.id))).toBe(true);
      // Rebuilding the room from what arrived gives what the store holds.
      expect(sink.messages()).toEqual(await storedMessages(roomId));
    }
  });

  it('drops what the snapshot already holds and keeps what lands right after it', async () => {
    const roomId = await newRoom();
    await appendQuietly(roomId, 2);
    let during: Message | undefined;
    let after: Message | undefined;
    // A store whose snapshot read is surrounded by writes that reach the hub.
    const racing: Store = {
      ...store,
      messages: {
        ...store.messages,
        snapshot: async (...args) => {
          during = await chat.send(authors[1] as PublicUser, { roomId, body: 'during' });
          const snapshot = await store.messages.snapshot(...args);
          after = await chat.send(authors[2] as PublicUser, { roomId, body: 'after' });
          return snapshot;
        },
      },
    };
    const { sink, piped } = await subscribe(roomId, null, { store: racing });
    await piped;

    const [snapshot] = sink.snapshots();
    expect(snapshot?.id).toBe(3);
    expect(snapshot?.event.type === 'snapshot' && snapshot.event.messages.at(-1)?.id).toBe(
      during?.id,
    );
    expect(sink.loggedSeqs()).toEqual([4]);
    expect(sink.delivered.at(-1)).toEqual({
      id: 4,
      event: { type: 'message', message: after },
      shared: true,
    });
    expect(sink.messages()).toEqual(await storedMessages(roomId));
  });

  it('resumes from lastEventId by replaying exactly the missing entries', async () => {
    const roomId = await newRoom();
    const first = await subscribe(roomId);
    await first.piped;
    const sent: Message[] = [];
    for (let i = 0; i < 6; i++) {
      sent.push(await chat.send(authors[i % 4] as PublicUser, { roomId, body: `m${i}` }));
    }
    await chat.vote(authors[0] as PublicUser, { messageId: sent[0]?.id as string, vote: 'down' });
    first.controller.abort();
    expect(first.sink.loggedSeqs()).toEqual(range(1, 7));

    // The client saw up to seq 4, then lost its connection.
    const resumed = await subscribe(roomId, 4);
    await resumed.piped;
    expect(resumed.sink.snapshots()).toEqual([]);
    expect(resumed.sink.delivered).toEqual([
      ...first.sink.delivered
        .filter((d) => d.id > 4 && d.event.type !== 'presence')
        .map((d) => ({
          ...d,
          shared: false,
        })),
      { id: 7, event: { type: 'presence', online: 1, users: [viewer] }, shared: false },
    ]);

    // And then it follows live, without a gap.
    await chat.send(authors[1] as PublicUser, { roomId, body: 'live' });
    expect(resumed.sink.loggedSeqs()).toEqual(range(5, 8));
  });

  it('replays nothing for a client that is up to date', async () => {
    const roomId = await newRoom();
    await appendQuietly(roomId, 5);
    const { sink, piped } = await subscribe(roomId, 5);
    await piped;
    expect(sink.delivered).toEqual([
      { id: 5, event: { type: 'presence', online: 1, users: [viewer] }, shared: false },
    ]);
  });

  it(`replays up to ${FANOUT_LIMITS.replayMax} missing entries and sends a snapshot beyond that`, async () => {
    const roomId = await newRoom();
    await appendQuietly(roomId, FANOUT_LIMITS.replayMax + 100);
    const head = FANOUT_LIMITS.replayMax + 100;

    const atLimit = await subscribe(roomId, head - FANOUT_LIMITS.replayMax);
    await atLimit.piped;
    expect(atLimit.sink.snapshots()).toEqual([]);
    expect(atLimit.sink.loggedSeqs()).toEqual(range(head - FANOUT_LIMITS.replayMax + 1, head));

    const tooFar = await subscribe(roomId, head - FANOUT_LIMITS.replayMax - 1);
    await tooFar.piped;
    expect(tooFar.sink.loggedSeqs()).toEqual([]);
    const [snapshot, ...others] = tooFar.sink.snapshots();
    expect(others).toEqual([]);
    expect(snapshot?.id).toBe(head);
    expect(snapshot?.event).toMatchObject({ type: 'snapshot', hasMore: true });
    expect(snapshot?.event.type === 'snapshot' && snapshot.event.messages).toHaveLength(
      LIMITS.snapshotSize,
    );
    expect(snapshot?.event.type === 'snapshot' && snapshot.event.messages.at(-1)?.body).toBe(
      `old ${head - 1}`,
    );

    const fromZero = await subscribe(roomId, 0);
    await fromZero.piped;
    expect(fromZero.sink.snapshots()).toHaveLength(1);
  });

  it('sends a snapshot when lastEventId is beyond the head (a reset or foreign room)', async () => {
    const roomId = await newRoom();
    const old = await appendQuietly(roomId, 3);
    const { sink, piped } = await subscribe(roomId, 99);
    await piped;
    expect(sink.delivered).toEqual([
      {
        id: 3,
        event: {
          type: 'snapshot',
          messages: old.map((m) => ({ ...m, myVote: null })),
          hasMore: false,
          pinned: [],
        },
        shared: false,
      },
      { id: 3, event: { type: 'presence', online: 1, users: [viewer] }, shared: false },
    ]);
    // Live events continue from the real head.
    await chat.send(authors[0] as PublicUser, { roomId, body: 'next' });
    expect(sink.loggedSeqs()).toEqual([4]);
  });

  it('shows the viewer their own votes in the snapshot', async () => {
    const roomId = await newRoom();
    const [message] = await appendQuietly(roomId, 1);
    await store.messages.vote(message?.id as string, viewer.id, 'up');
    const { sink, piped } = await subscribe(roomId);
    await piped;
    expect(sink.snapshots()[0]?.event).toMatchObject({
      messages: [{ id: message?.id, up: 1, myVote: 'up' }],
    });
  });

  it('never lets presence ids fall behind what the feed already sent', async () => {
    const roomId = await newRoom();
    // History the hub never saw on the bus.
    await appendQuietly(roomId, 5);
    const { sink, piped } = await subscribe(roomId);
    await piped;
    await bus.publish(roomId, { kind: 'presence', online: 7 });
    expect(sink.delivered.at(-1)).toMatchObject({
      id: 5,
      event: { type: 'presence', online: 7, users: [] },
    });
    expect(isNonDecreasing(sink.delivered.map((d) => d.id))).toBe(true);
  });

  it('leaves the room when aborted: presence drops and nothing more arrives', async () => {
    const roomId = await newRoom();
    const { sink, controller, piped } = await subscribe(roomId);
    await piped;
    expect(await online(roomId)).toBe(1);
    expect(hub.localMembers()).toBe(1);

    controller.abort();
    await vi.waitFor(async () => expect(await online(roomId)).toBe(0));
    expect(hub.localMembers()).toBe(0);
    const before = sink.delivered.length;
    await chat.send(authors[0] as PublicUser, { roomId, body: 'after leaving' });
    await bus.publish(roomId, { kind: 'presence', online: 3 });
    expect(sink.delivered).toHaveLength(before);
  });

  it('counts two feeds of one user once, until both are aborted', async () => {
    const roomId = await newRoom();
    const tab1 = await subscribe(roomId);
    const tab2 = await subscribe(roomId);
    const other = await subscribe(roomId, null, { user: authors[0] as PublicUser });
    await Promise.all([tab1.piped, tab2.piped, other.piped]);
    expect(await online(roomId)).toBe(2);

    tab1.controller.abort();
    await vi.waitFor(() => expect(hub.localMembers()).toBe(2));
    expect(await online(roomId)).toBe(2);
    // The other tab still follows the room.
    await chat.send(authors[0] as PublicUser, { roomId, body: 'still here' });
    expect(tab2.sink.loggedSeqs()).toEqual([1]);
    expect(tab1.sink.loggedSeqs()).toEqual([]);

    tab2.controller.abort();
    await vi.waitFor(async () => expect(await online(roomId)).toBe(1));
    other.controller.abort();
    await vi.waitFor(async () => expect(await online(roomId)).toBe(0));
  });

  it('does not join at all when the signal is already aborted', async () => {
    const roomId = await newRoom();
    const controller = new AbortController();
    controller.abort();
    const sink = new RecordingSink();
    await new RoomFeed({ store, hub }, { roomId, viewer, lastEventId: null }).pipe(
      sink,
      controller.signal,
    );
    expect(sink.delivered).toEqual([]);
    expect(await online(roomId)).toBe(0);
    expect(hub.localMembers()).toBe(0);
  });

  it('leaves the room when catching up fails', async () => {
    const roomId = await newRoom();
    const failing: Store = {
      ...store,
      messages: {
        ...store.messages,
        snapshot: async () => {
          throw new Error('database is down');
        },
      },
    };
    const { piped } = await subscribe(roomId, null, { store: failing });
    await expect(piped).rejects.toThrow('database is down');
    expect(await online(roomId)).toBe(0);
    expect(hub.localMembers()).toBe(0);
  });

  it('iterates as tracked envelopes and stops on return()', async () => {
    const roomId = await newRoom();
    await appendQuietly(roomId, 2);
    const feed = new RoomFeed({ store, hub }, { roomId, viewer, lastEventId: 1 });
    const iterator = feed[Symbol.asyncIterator]();
    // tRPC's tracked() envelope is [id, data, marker].
    const envelope = async () => (await iterator.next()).value?.slice(0, 2);
    expect(await envelope()).toMatchObject(['2', { type: 'message', message: { body: 'old 1' } }]);
    expect(await envelope()).toEqual(['2', { type: 'presence', online: 1, users: [viewer] }]);
    const sent = await chat.send(authors[0] as PublicUser, { roomId, body: 'live' });
    expect(await envelope()).toEqual(['3', { type: 'message', message: sent }]);
    await iterator.return?.();
    await vi.waitFor(async () => expect(await online(roomId)).toBe(0));
  });
});

describe('RoomHub', () => {
  it('subscribes to the bus once per room and unsubscribes when the last member leaves', async () => {
    const subscribed: string[] = [];
    const unsubscribed: string[] = [];
    const countingBus: EventBus = {
      ...bus,
      async subscribe(roomId, listener) {
        subscribed.push(roomId);
        const unsubscribe = await bus.subscribe(roomId, listener);
        return async () => {
          unsubscribed.push(roomId);
          await unsubscribe();
        };
      },
    };
    const countingHub = new RoomHub({
      bus: countingBus,
      presence,
      eventLog: store.messages,
      onError: (error) => hubErrors.push(error),
      onPresenceError: (error) => hubErrors.push(error),
    });
    const received: string[] = [];
    const member = (name: string) => ({
      userId: name,
      receive: (event: SharedEvent) => void received.push(`${name}:${event.id}`),
    });
    const leaveA = await countingHub.join('room-x', member('a'));
    const leaveB = await countingHub.join('room-x', member('b'));
    expect(subscribed).toEqual(['room-x']);
    await bus.publish('room-x', {
      kind: 'logged',
      seq: 1,
      event: { type: 'vote', messageId: 'm', up: 1, down: 0, voterId: 'a', vote: 'up' },
    });
    expect(received).toEqual(['a:1', 'b:1']);

    leaveA();
    leaveA(); // idempotent
    expect(unsubscribed).toEqual([]);
    await vi.waitFor(async () => expect(await online('room-x')).toBe(1));
    leaveB();
    await vi.waitFor(() => expect(unsubscribed).toEqual(['room-x']));
    expect(await online('room-x')).toBe(0);
    await countingHub.close();
  });
});
