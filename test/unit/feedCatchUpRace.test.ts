import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/bus/memory.js';
import type { ChatEvent } from '../../src/contract/events.js';
import { MessageService } from '../../src/domain/messages.js';
import { RateLimiter } from '../../src/domain/rateLimiter.js';
import { RoomService } from '../../src/domain/rooms.js';
import type { FeedSink } from '../../src/fanout/feedSink.js';
import { RoomFeed } from '../../src/fanout/roomFeed.js';
import { RoomHub } from '../../src/fanout/roomHub.js';
import { createMemoryPresence } from '../../src/presence/memory.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import type { Store } from '../../src/storage/store.js';

/**
 * With a networked store, messages land between the feed joining the room and its catch-up
 * read, so the same entry arrives twice (buffered live and in the read). This store answers
 * catch-up reads late to open that window on purpose.
 */
function withSlowReads(store: Store, delayMs: number): Store {
  // The read runs after the delay, so it sees entries that were published (and buffered) meanwhile.
  const later = <T>(read: () => Promise<T>) =>
    new Promise((resolve) => setTimeout(resolve, delayMs)).then(read);
  return {
    ...store,
    messages: {
      ...store.messages,
      head: (roomId) => later(() => store.messages.head(roomId)),
      snapshot: (...args) => later(() => store.messages.snapshot(...args)),
      eventsAfter: (...args) => later(() => store.messages.eventsAfter(...args)),
    },
  };
}

const viewer = { id: 'viewer', username: 'viewer' };
const author = { id: 'author', username: 'author' };
let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chathub-race-'));
  store = openSqliteStore(join(dir, 'db.sqlite'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function setUp() {
  const bus = createMemoryBus();
  const presence = createMemoryPresence();
  const rooms = new RoomService(store, presence, {
    creations: { perSecond: 1000, burst: 1000 },
    ownedMax: 1000,
  });
  await rooms.ensureDefault();
  const chat = new MessageService(store, bus, rooms, {
    messages: new RateLimiter({ perSecond: 1000, burst: 1000 }),
    votes: new RateLimiter({ perSecond: 1000, burst: 1000 }),
  });
  const hub = new RoomHub({
    bus,
    presence,
    eventLog: store.messages,
    onError: (error) => {
      throw error;
    },
    onPresenceError: (error) => {
      throw error;
    },
  });
  return { chat, hub };
}

function recordingSink() {
  const delivered: { id: string; event: ChatEvent }[] = [];
  const sink: FeedSink = {
    shared: (event) => delivered.push({ id: event.id, event: event.event }),
    own: (id, event) => delivered.push({ id, event }),
  };
  const messageIds = () =>
    delivered.flatMap(({ event }) => {
      if (event.type === 'snapshot') return event.messages.map((m) => m.id);
      return event.type === 'message' ? [event.message.id] : [];
    });
  return { delivered, sink, messageIds };
}

describe('a feed catching up while messages keep arriving', () => {
  it.each([
    ['a first subscription (snapshot)', null],
    ['a resumed subscription (replay)', 0],
  ])('delivers each message exactly once, in order, for %s', async (_name, lastEventId) => {
    const { chat, hub } = await setUp();
    const feed = new RoomFeed(
      { store: withSlowReads(store, 30), hub },
      { roomId: 'general', viewer, lastEventId },
    );
    const { delivered, sink, messageIds } = recordingSink();
    const sent: string[] = [];
    const sending = (async () => {
      for (let i = 0; i < 20; i++) {
        sent.push((await chat.send(author, { roomId: 'general', body: `m${i}` })).id);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 12));
    const stop = new AbortController();
    await feed.pipe(sink, stop.signal);
    await sending;
    stop.abort();

    expect(messageIds()).toEqual(sent);
    const trackedIds = delivered.filter((d) => d.event.type === 'message').map((d) => Number(d.id));
    expect(trackedIds).toEqual([...trackedIds].sort((a, b) => a - b));
  });
});
