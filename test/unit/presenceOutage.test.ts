import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryBus } from '../../src/bus/memory.js';
import type { ChatEvent } from '../../src/contract/events.js';
import type { PublicUser } from '../../src/contract/models.js';
import { UnavailableError } from '../../src/domain/errors.js';
import { MessageService } from '../../src/domain/messages.js';
import { RateLimiter } from '../../src/domain/rateLimiter.js';
import { RoomService } from '../../src/domain/rooms.js';
import { RoomFeed } from '../../src/fanout/roomFeed.js';
import { RoomHub } from '../../src/fanout/roomHub.js';
import { createMemoryPresence } from '../../src/presence/memory.js';
import type { Presence } from '../../src/presence/presence.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import type { Store } from '../../src/storage/store.js';

/**
 * Presence lives in Redis, which can be unreachable while the database and the chat server are
 * fine. A presence outage must neither end a feed nor reach the process as an unhandled
 * rejection (Node exits on those): failures are reported and reconciled later.
 */

/**
 * Memory presence behind a switch. While `down`, every call rejects as the Redis adapter does,
 * but joins and leaves still change membership, as the Presence port promises.
 */
function flakyPresence() {
  const inner = createMemoryPresence();
  const state = { down: false };
  const unreachable = () => new UnavailableError('Presence', new Error('connect ECONNREFUSED'));
  const presence: Presence = {
    async join(roomId, userId, username) {
      const change = await inner.join(roomId, userId, username);
      if (state.down) throw unreachable();
      return change;
    },
    async leave(roomId, userId) {
      const change = await inner.leave(roomId, userId);
      if (state.down) throw unreachable();
      return change;
    },
    async count(roomIds) {
      if (state.down) throw unreachable();
      return inner.count(roomIds);
    },
    async users(roomId, max) {
      if (state.down) throw unreachable();
      return inner.users(roomId, max);
    },
    watchDrift: (listener) => inner.watchDrift(listener),
    close: () => inner.close(),
  };
  return { presence, state };
}

const viewer: PublicUser = { id: 'viewer-id', username: 'viewer' };
const author: PublicUser = { id: 'author-id', username: 'author' };
const ROOM = 'general';

let dir: string;
let store: Store;
let flaky: ReturnType<typeof flakyPresence>;
let hub: RoomHub;
let chat: MessageService;
let hubErrors: unknown[];
let presenceErrors: unknown[];
let unhandled: unknown[];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chathub-presence-outage-'));
  store = openSqliteStore(join(dir, 'chathub.db'));
  const bus = createMemoryBus();
  flaky = flakyPresence();
  hubErrors = [];
  presenceErrors = [];
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
  hub = new RoomHub({
    bus,
    presence: flaky.presence,
    eventLog: store.messages,
    onError: (error) => hubErrors.push(error),
    onPresenceError: (error) => presenceErrors.push(error),
    presenceRetryMs: 50,
  });
  const plenty = { perSecond: 1e9, burst: 1e9 };
  const unlimited = new RateLimiter(plenty);
  const rooms = new RoomService(store, flaky.presence, { creations: plenty, ownedMax: 1 });
  await rooms.ensureDefault();
  chat = new MessageService(store, bus, rooms, { messages: unlimited, votes: unlimited });
});

afterEach(async () => {
  await hub.close();
  process.off('unhandledRejection', onUnhandled);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  expect(hubErrors).toEqual([]);
  expect(unhandled).toEqual([]);
});

function follow(deps: { store?: Store } = {}) {
  const events: ChatEvent[] = [];
  const controller = new AbortController();
  const feed = new RoomFeed(
    { store: deps.store ?? store, hub },
    { roomId: ROOM, viewer, lastEventId: null },
  );
  const piped = feed.pipe(
    { shared: (event) => events.push(event.event), own: (_id, event) => events.push(event) },
    controller.signal,
  );
  return { events, controller, piped };
}

const online = async () => (await flaky.presence.count([ROOM])).get(ROOM);
const presenceEvents = (events: ChatEvent[]) => events.filter((e) => e.type === 'presence');

describe('a presence outage', () => {
  it('lets a tab close: the feed leaves the room, the failure is reported, nothing is left unhandled', async () => {
    const tab = follow();
    await tab.piped;
    expect(await online()).toBe(1);

    flaky.state.down = true;
    tab.controller.abort();
    expect(hub.localMembers()).toBe(0);
    await vi.waitFor(() => expect(presenceErrors).toHaveLength(1));
    expect(presenceErrors[0]).toBeInstanceOf(UnavailableError);
    // The hub owns the failed leave: close() waits for it and resolves.
    await hub.close();
    await new Promise((resolve) => setImmediate(resolve));

    flaky.state.down = false;
    expect(await online()).toBe(0);
  });

  it('does not end a feed that joins meanwhile: it follows the room, and the count arrives once presence is back', async () => {
    flaky.state.down = true;
    const tab = follow();
    await tab.piped;
    expect(tab.events.map((e) => e.type)).toEqual(['snapshot']);
    const sent = await chat.send(author, { roomId: ROOM, body: 'during the outage' });
    expect(tab.events.at(-1)).toEqual({ type: 'message', message: sent });
    expect(presenceErrors.length).toBeGreaterThan(0);

    flaky.state.down = false;
    await vi.waitFor(() =>
      expect(presenceEvents(tab.events)).toEqual([
        { type: 'presence', online: 1, users: [viewer] },
      ]),
    );
    tab.controller.abort();
  });

  it('keeps the original error when catching up fails and leaving fails too', async () => {
    const failing: Store = {
      ...store,
      messages: {
        ...store.messages,
        snapshot: async () => {
          flaky.state.down = true;
          throw new UnavailableError('The database');
        },
      },
    };
    const tab = follow({ store: failing });
    await expect(tab.piped).rejects.toThrow('The database is unavailable right now');
    expect(hub.localMembers()).toBe(0);
    await vi.waitFor(() => expect(presenceErrors).toHaveLength(1));
    flaky.state.down = false;
  });
});
