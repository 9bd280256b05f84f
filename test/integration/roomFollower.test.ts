import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatHubConnection } from '../../src/client/index.js';
import type { FollowedRoom, RoomFollower, RoomStatus } from '../../src/client/roomFollower.js';
import { type FlakyStore, flakyAdapters } from '../helpers/flakyStore.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import { Waiters } from '../helpers/wait.js';

/**
 * The room follower against a real server whose database fails the subscription's catch-up a
 * few times: the server answers the subscription with an error each time, and the follower comes
 * back by itself, from its last event id, with every message once and in the room's order.
 */

let server: TestServer;
let flaky: FlakyStore;
let dataDir: string;
let writer: ChatHubConnection;
let reader: ChatHubConnection;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chathub-follower-'));
  const setup = flakyAdapters(dataDir);
  flaky = setup.flaky;
  server = await startTestServer({}, { adapters: setup.adapters });
  writer = await server.user(uniqueName('writer'));
  reader = await server.user(uniqueName('reader'));
});

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Follows a room, recording every status it reports. */
function watch(follower: RoomFollower) {
  const waiters = new Waiters();
  const statuses: RoomStatus[] = [];
  follower.subscribe((state) => {
    if (state.status !== statuses.at(-1)) statuses.push(state.status);
    waiters.notify();
  });
  const until = (condition: (state: FollowedRoom) => boolean, what: string) =>
    waiters.until(
      () => condition(follower.getState()),
      () => `${what}; statuses so far: ${JSON.stringify(statuses)}`,
      10_000,
    );
  return { statuses, until };
}

let sent = 0;
async function send(roomId: string): Promise<string> {
  sent += 1;
  return (await writer.chat.send.mutate({ roomId, body: `message ${sent}` })).id;
}

/** What the server holds for the room, oldest first (fewer than a page in these tests). */
async function history(roomId: string): Promise<string[]> {
  const page = await writer.chat.history.query({ roomId, limit: 100 });
  return page.messages.map((m) => m.id);
}

const reconnects = (statuses: RoomStatus[]) =>
  statuses.filter((status) => status.state === 'reconnecting').length;
/** Retries come within 20–100 ms here, so the tests take no longer than the outage. */
const backoff = { initialMs: 20, maxMs: 100 };

describe('a room follower on a server whose database blinks', () => {
  it('subscribes again until the snapshot can be read, and misses nothing written meanwhile', async () => {
    const { id: roomId } = await writer.rooms.create.mutate({ name: uniqueName('Blink') });
    const before = [await send(roomId), await send(roomId)];
    const snapshots = flaky.calls.snapshot;
    const during: string[] = [];
    flaky.failNext('snapshot', 2, async () => {
      during.push(await send(roomId));
    });

    const follower = reader.followRoom(roomId, { backoff });
    const { statuses, until } = watch(follower);
    await until((state) => state.status.state === 'live', 'the follower is live');
    await until((state) => state.messages.length === 4, 'all four messages');

    expect(flaky.calls.snapshot - snapshots).toBe(3);
    expect(reconnects(statuses)).toBe(2);
    expect(statuses[0]).toEqual({ state: 'reconnecting', reason: expect.any(String) });
    expect(statuses.at(-1)).toEqual({ state: 'live' });
    const held = follower.getState().messages.map((m) => m.id);
    expect(held).toEqual([...before, ...during]);
    expect(held).toEqual(await history(roomId));
    follower.close();
  });

  it('resumes from its last event id when catching up fails after the server asked it to reconnect', async () => {
    const { id: roomId } = await writer.rooms.create.mutate({ name: uniqueName('Resume') });
    await send(roomId);
    const follower = reader.followRoom(roomId, { backoff });
    const { statuses, until } = watch(follower);
    await until((state) => state.messages.length === 1, 'the first message');
    const snapshots = flaky.calls.snapshot;
    const replays = flaky.calls.eventsAfter;

    flaky.failNext('eventsAfter', 2, async () => {
      await send(roomId);
    });
    server.running.chat?.transport.broadcastReconnect();
    await send(roomId);
    await until((state) => state.messages.length === 4, 'the three messages sent meanwhile');
    await until((state) => state.status.state === 'live', 'the follower is live again');

    // Every attempt replayed from the last event held; none started over from a snapshot.
    expect(flaky.calls.eventsAfter - replays).toBe(3);
    expect(flaky.calls.snapshot).toBe(snapshots);
    expect(reconnects(statuses)).toBeGreaterThanOrEqual(2);
    expect(follower.getState().messages.map((m) => m.id)).toEqual(await history(roomId));
    follower.close();
  });

  it('ends, saying why, when the room does not exist', async () => {
    const follower = reader.followRoom('no-such-room', { backoff });
    const { statuses, until } = watch(follower);
    await until((state) => state.status.state === 'ended', 'the feed ends');
    expect(follower.getState().status).toEqual({
      state: 'ended',
      code: 'NOT_FOUND',
      reason: 'There is no room "no-such-room"',
    });
    expect(statuses).toHaveLength(1);
    follower.close();
  });
});
