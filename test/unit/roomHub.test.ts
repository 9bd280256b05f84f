import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventBus, RoomBroadcast, RoomListener } from '../../src/bus/eventBus.js';
import { createMemoryBus } from '../../src/bus/memory.js';
import type { LoggedEvent } from '../../src/contract/events.js';
import { RoomHub, type RoomHubOptions } from '../../src/fanout/roomHub.js';
import type { SharedEvent } from '../../src/fanout/sharedEvent.js';
import { FANOUT_LIMITS } from '../../src/limits.js';
import { createMemoryPresence } from '../../src/presence/memory.js';
import type { LoggedEntry } from '../../src/storage/store.js';

const ROOM = 'general';
const vote = (seq: number): LoggedEvent => ({
  type: 'vote',
  messageId: `m${seq}`,
  up: seq,
  down: 0,
  voterId: 'u',
  vote: 'up',
});

/** A room log held in memory: the hub only reads its head and what follows a sequence number. */
function memoryLog(initial: number) {
  const entries: LoggedEntry[] = Array.from({ length: initial }, (_, i) => ({
    seq: i + 1,
    event: vote(i + 1),
  }));
  return {
    entries,
    append(): LoggedEntry {
      const entry = { seq: entries.length + 1, event: vote(entries.length + 1) };
      entries.push(entry);
      return entry;
    },
    head: async () => entries.length,
    eventsAfter: async (_room: string, seq: number, limit: number) =>
      entries.filter((e) => e.seq > seq).slice(0, limit),
  };
}

/** A hub for tests where any error is a failure, with no presence retries unless asked. */
function strictHub(options: Pick<RoomHubOptions, 'bus' | 'presence'> & Partial<RoomHubOptions>) {
  const rethrow = (error: unknown) => {
    throw error;
  };
  return new RoomHub({
    eventLog: memoryLog(0),
    onError: rethrow,
    onPresenceError: rethrow,
    presenceRetryMs: 0,
    ...options,
  });
}

async function setUp(logged: number, bus: EventBus = createMemoryBus()) {
  const log = memoryLog(logged);
  const errors: unknown[] = [];
  const hub = new RoomHub({
    bus,
    presence: createMemoryPresence(),
    eventLog: log,
    onError: (error) => errors.push(error),
    onPresenceError: (error) => errors.push(error),
    gapWaitMs: 20,
  });
  const received: SharedEvent[] = [];
  await hub.join(ROOM, { userId: 'reader', receive: (event) => received.push(event) });
  const publish = (entry: LoggedEntry) =>
    bus.publish(ROOM, { kind: 'logged', ...entry } satisfies RoomBroadcast);
  const seqs = () => received.filter((e) => e.logged).map((e) => e.seq);
  return { bus, hub, log, errors, received, publish, seqs };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RoomHub delivery order', () => {
  it('hands entries to members in sequence order even when publishes cross', async () => {
    const room = await setUp(2);
    const [three, four, five] = [room.log.append(), room.log.append(), room.log.append()];
    if (!three || !four || !five) throw new Error('no entries');
    await room.publish(four);
    await room.publish(three);
    await room.publish(five);
    expect(room.seqs()).toEqual([3, 4, 5]);
  });

  it('ignores entries at or below the head it started from, and repeats', async () => {
    const room = await setUp(3);
    await room.publish({ seq: 2, event: vote(2) });
    const four = room.log.append();
    await room.publish(four);
    await room.publish(four);
    expect(room.seqs()).toEqual([4]);
  });

  it('reads entries that never arrive from the log after a short wait', async () => {
    const room = await setUp(1);
    room.log.append();
    room.log.append();
    const four = room.log.append();
    await room.publish(four);
    expect(room.seqs()).toEqual([]);
    await vi.waitFor(() => expect(room.seqs()).toEqual([2, 3, 4]));
    expect(room.errors).toEqual([]);
  });

  it('asks the log again when it cannot be read, instead of skipping entries it holds', async () => {
    const room = await setUp(1);
    const read = room.log.eventsAfter;
    let failures = 2;
    room.log.eventsAfter = async (...args) => {
      if (failures-- > 0) throw new Error('database unreachable');
      return read(...args);
    };
    room.log.append();
    const three = room.log.append();
    await room.publish(three);
    await vi.waitFor(() => expect(room.seqs()).toEqual([2, 3]), { timeout: 5_000 });
    expect(room.errors.map(String)).toEqual([
      'Error: database unreachable',
      'Error: database unreachable',
    ]);
  });

  it('skips what the log cannot supply rather than stalling the room, and says so', async () => {
    const room = await setUp(1);
    await room.publish({ seq: 3, event: vote(3) });
    await vi.waitFor(() => expect(room.seqs()).toEqual([3]));
    expect(String(room.errors[0])).toMatch(/entries after 1 missing/);
    await room.publish({ seq: 4, event: vote(4) });
    expect(room.seqs()).toEqual([3, 4]);
  });

  it('stamps presence events with the last entry delivered', async () => {
    const room = await setUp(7);
    await room.bus.publish(ROOM, { kind: 'presence', online: 3 });
    expect(room.received.at(-1)).toMatchObject({
      seq: 7,
      logged: false,
      event: { type: 'presence', online: 3 },
    });
  });
});

describe('RoomHub presence in a join storm', () => {
  it('tells a large room its count no more often than its presence frame budget allows', async () => {
    vi.useFakeTimers();
    const bus = createMemoryBus();
    const hub = strictHub({ bus, presence: createMemoryPresence() });
    let frames = 0;
    let lastCount = 0;
    const member = (userId: string) => ({
      userId,
      receive: (event: SharedEvent) => {
        if (event.event.type !== 'presence') return;
        frames++;
        lastCount = event.event.online;
      },
    });
    // 10,000 members join over 10 seconds.
    const seconds = 10;
    for (let tick = 0; tick < seconds * 10; tick++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => hub.join(ROOM, member(`u${tick}-${i}`))),
      );
      await vi.advanceTimersByTimeAsync(100);
    }
    // Announcing every 250 ms would be about 200,000 frames over the storm.
    expect(frames).toBeLessThanOrEqual(FANOUT_LIMITS.presenceFramesPerSecond * seconds + 10_000);
    // The room still hears its final count.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(lastCount).toBe(10_000);
    await hub.close();
  });
});

/** A bus that lost a room for a while: it hands listeners only what the test signals. */
function lossyBus() {
  const listeners = new Set<RoomListener>();
  const bus: EventBus = {
    async subscribe(_roomId, listener) {
      listeners.add(listener);
      return async () => void listeners.delete(listener);
    },
    async publish() {},
    async ping() {},
    async close() {},
  };
  const signal = (...args: Parameters<RoomListener>) => {
    for (const listener of listeners) listener(...args);
  };
  return { bus, signal };
}

describe('RoomHub after the bus lost a room (resync)', () => {
  const lossyRoom = async (logged: number) => {
    const { bus, signal } = lossyBus();
    const room = await setUp(logged, bus);
    const reads = vi.spyOn(room.log, 'eventsAfter');
    const settled = () => Promise.all(reads.mock.results.map((result) => result.value));
    return { ...room, signal, reads, settled };
  };

  it('reads what was logged meanwhile and hands it over once, in order', async () => {
    const room = await lossyRoom(2);
    const missed = [room.log.append(), room.log.append(), room.log.append()];
    room.signal({ kind: 'resync' });
    await room.settled();
    expect(room.seqs()).toEqual([3, 4, 5]);

    // What the bus delivers afterwards, a late repeat included, goes on from there.
    const six = room.log.append();
    for (const entry of [missed[2], six]) if (entry) room.signal({ kind: 'logged', ...entry });
    expect(room.seqs()).toEqual([3, 4, 5, 6]);
    expect(room.errors).toEqual([]);
  });

  it('pages through a long absence', async () => {
    const room = await lossyRoom(0);
    for (let i = 0; i < 1_203; i++) room.log.append();
    room.signal({ kind: 'resync' });
    await vi.waitFor(() => expect(room.seqs()).toHaveLength(1_203));
    expect(room.seqs()).toEqual(Array.from({ length: 1_203 }, (_, i) => i + 1));
    expect(room.reads.mock.calls.map(([, after]) => after)).toEqual([0, 500, 1_000]);
  });

  it('asks the log again when it cannot be read at the resync', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const room = await lossyRoom(1);
    room.log.append();
    room.reads.mockRejectedValueOnce(new Error('database unreachable'));
    room.signal({ kind: 'resync' });
    await vi.waitFor(() => expect(room.errors).toHaveLength(1));
    expect(room.seqs()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(room.seqs()).toEqual([2]);
  });

  it('changes nothing when nothing was missed', async () => {
    const room = await lossyRoom(4);
    room.signal({ kind: 'resync' });
    await room.settled();
    expect(room.seqs()).toEqual([]);
    expect(room.reads.mock.calls).toEqual([[ROOM, 4, 500]]);
  });
});

describe('RoomHub who-is-online lists in a join storm', () => {
  it('reads a room’s list once for all who join within the throttle window, and again after', async () => {
    vi.useFakeTimers();
    const presence = createMemoryPresence();
    const users = vi.spyOn(presence, 'users');
    const hub = strictHub({ bus: createMemoryBus(), presence });
    const joinAndRead = async (userId: string) => {
      await hub.join(ROOM, { userId, username: userId, receive: () => {} });
      return hub.whoIsOnline(ROOM);
    };
    const storm = await Promise.all(
      Array.from({ length: 200 }, (_, i) => joinAndRead(`u${String(i).padStart(3, '0')}`)),
    );
    expect(users).toHaveBeenCalledTimes(1);
    expect(storm.every((list) => list === storm[0])).toBe(true);
    await vi.advanceTimersByTimeAsync(300);
    const later = await joinAndRead('u999');
    expect(users.mock.calls.length).toBeGreaterThan(1);
    expect(later?.online).toBe(201);
    await hub.close();
  });
});

describe('RoomHub presence announcements', () => {
  /** A hub over a bus that records what is published, with presence whose drift the test raises. */
  const presenceRoom = async (retryMs = 0) => {
    const { bus, signal } = lossyBus();
    const published = vi.spyOn(bus, 'publish');
    const presence = createMemoryPresence();
    const drift = { raise: (_roomId: string) => {}, watching: false };
    vi.spyOn(presence, 'watchDrift').mockImplementation((listener) => {
      drift.raise = listener;
      drift.watching = true;
      return () => {
        drift.watching = false;
      };
    });
    const hub = strictHub({ bus, presence, presenceRetryMs: retryMs });
    await hub.join(ROOM, { userId: 'reader', username: 'reader', receive: () => {} });
    await vi.advanceTimersByTimeAsync(1_000);
    published.mockClear();
    const announced = () =>
      published.mock.calls.filter(([, broadcast]) => broadcast.kind === 'presence');
    return { hub, signal, drift, announced };
  };

  it('announces a room whose count drifted (members expired elsewhere), once per throttle window, and only rooms it has members in', async () => {
    vi.useFakeTimers();
    const room = await presenceRoom();
    room.drift.raise(ROOM);
    room.drift.raise(ROOM);
    room.drift.raise('elsewhere');
    await vi.advanceTimersByTimeAsync(FANOUT_LIMITS.presenceThrottleMs);
    expect(room.announced()).toEqual([
      [ROOM, { kind: 'presence', online: 1, users: [{ id: 'reader', username: 'reader' }] }],
    ]);
    await room.hub.close();
    expect(room.drift.watching).toBe(false);
  });

  it('announces the count again after the bus lost the room, since announcements were lost with it', async () => {
    vi.useFakeTimers();
    const room = await presenceRoom(4_000);
    room.signal({ kind: 'resync' });
    await vi.advanceTimersByTimeAsync(4_000 + FANOUT_LIMITS.presenceThrottleMs);
    expect(room.announced()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(room.announced()).toHaveLength(1);
    await room.hub.close();
  });
});
