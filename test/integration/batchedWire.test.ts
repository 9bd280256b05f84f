import { createTRPCClient } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { AppRouter } from '../../src/appRouter.js';
import { createChatHubLinks } from '../../src/client/index.js';
import { LIMITS } from '../../src/contract/limits.js';
import type { Message, PublicUser } from '../../src/contract/models.js';
import { BATCH_PROTOCOL, MAX_BATCH_FRAME_BYTES } from '../../src/contract/wire.js';
import { RawSocket } from '../helpers/rawSocket.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import { pollUntil } from '../helpers/wait.js';

/**
 * The batched wire mode, over real sockets: a client that asks for the subprotocol gets what the
 * server has for it in one turn as one frame of newline-separated messages, never larger than
 * MAX_BATCH_FRAME_BYTES unless it is a single message; every other client (the stock
 * `@trpc/client`) gets one message per frame, as before. The typed client asks for it.
 */

let server: TestServer;
let authors: PublicUser[];
beforeAll(async () => {
  server = await startTestServer(
    {},
    { rateLimits: { messages: { perSecond: 1000, burst: 1000 } } },
  );
  authors = await Promise.all(
    [1, 2, 3, 4, 5].map(async (i) => (await server.fastUser(uniqueName(`author${i}-`))).user),
  );
});
afterAll(() => server.stop());

const newRoom = async (prefix: string) =>
  (await server.running.services.rooms.create(uniqueName(prefix))).id;

/**
 * Sends `count` messages at once, from several authors (the server's message rate is raised for
 * this): the calls run together, so their events reach members in the same event-loop turn.
 */
async function burst(roomId: string, count: number, body = (i: number) => `m${i}`) {
  const sent = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      server.chat.messages.send(authors[i % authors.length] as PublicUser, {
        roomId,
        body: body(i),
      }),
    ),
  );
  // In the room's order, which is the order every member must see them in.
  const { messages } = await server.chat.messages.history(authors[0] as PublicUser, {
    roomId,
    limit: LIMITS.historyPageMax,
  });
  const ids = new Set(sent.map((m) => m.id));
  return messages.filter((m) => ids.has(m.id));
}

/** Message ids a raw subscriber received, in order of arrival. */
function messageIds(socket: RawSocket): string[] {
  return socket.responses.flatMap((response) => {
    const event = (response.result?.data as { data?: { type?: string; message?: Message } })?.data;
    return event?.type === 'message' && event.message ? [event.message.id] : [];
  });
}

async function subscribed(roomId: string, batched: boolean): Promise<RawSocket> {
  const { token } = await server.fastUser(uniqueName('reader'));
  const socket = await RawSocket.open(server.wsUrl, token, { batched });
  socket.request(1, 'subscription', 'chat.events', { roomId });
  await socket.until(
    () =>
      socket.responses.some(
        (r) => (r.result?.data as { data?: { type?: string } })?.data?.type === 'snapshot',
      ),
    'the snapshot',
  );
  return socket;
}

const bytes = (frame: string) => Buffer.byteLength(frame);

describe('the batched wire mode', () => {
  it('is chosen only by a client that asks for it', async () => {
    const { token } = await server.fastUser(uniqueName('asker'));
    const stock = await RawSocket.open(server.wsUrl, token);
    const batched = await RawSocket.open(server.wsUrl, token, { batched: true });
    const offered = new WebSocket(server.wsUrl, ['something-else', BATCH_PROTOCOL]);
    await new Promise((resolve, reject) => offered.once('open', resolve).once('error', reject));
    expect(stock.ws.protocol).toBe('');
    expect(batched.ws.protocol).toBe(BATCH_PROTOCOL);
    expect(offered.protocol).toBe(BATCH_PROTOCOL);
    for (const socket of [stock.ws, batched.ws, offered]) socket.close();
  });

  it('leaves a client that did not ask one message per frame, even for a burst in one turn', async () => {
    const roomId = await newRoom('stock');
    const socket = await subscribed(roomId, false);
    const sent = await burst(roomId, 30);
    await socket.until(() => messageIds(socket).length === 30, 'every message');
    expect(messageIds(socket)).toEqual(sent.map((m) => m.id));
    for (const frame of socket.frames) expect(frame).not.toContain('\n');
    expect(socket.frames.length).toBe(socket.responses.length);
    socket.close();
  });

  it('merges a turn into one frame for a client that asked, in order', async () => {
    const roomId = await newRoom('merged');
    const socket = await subscribed(roomId, true);
    const framesBefore = socket.frames.length;
    const sent = await burst(roomId, 30);
    await socket.until(() => messageIds(socket).length === 30, 'every message');
    expect(messageIds(socket)).toEqual(sent.map((m) => m.id));
    // The burst's events were queued in one turn: they arrive in (far) fewer frames.
    expect(socket.frames.length - framesBefore).toBeLessThan(5);
    socket.close();
  });

  it('never makes a frame larger than MAX_BATCH_FRAME_BYTES that holds more than one message', async () => {
    const roomId = await newRoom('large');
    const socket = await subscribed(roomId, true);
    // 50 bodies of the most characters, each escaped to 6 bytes: well past one frame's worth.
    const body = (i: number) => `${i} `.padEnd(LIMITS.messageMax, '\u0001');
    const sent = await burst(roomId, 50, body);
    await socket.until(() => messageIds(socket).length === 50, 'every message', 10_000);
    expect(messageIds(socket)).toEqual(sent.map((m) => m.id));
    const merged = socket.frames.filter((frame) => frame.includes('\n'));
    expect(merged.length).toBeGreaterThan(1);
    for (const frame of merged) expect(bytes(frame)).toBeLessThanOrEqual(MAX_BATCH_FRAME_BYTES);
    socket.close();
  });

  it('sends a message larger than a batched frame in a frame of its own', async () => {
    const roomId = await newRoom('history');
    await burst(roomId, LIMITS.historyPageMax / 2, (i) => `${i} `.padEnd(LIMITS.messageMax, 'x'));
    await burst(roomId, LIMITS.historyPageMax / 2, (i) => `${i} `.padEnd(LIMITS.messageMax, 'y'));
    const { token } = await server.fastUser(uniqueName('pager'));
    const socket = await RawSocket.open(server.wsUrl, token, { batched: true });
    socket.request(1, 'query', 'chat.history', { roomId, limit: LIMITS.historyPageMax });
    socket.request(2, 'query', 'chat.history', { roomId, limit: 1 });
    await socket.response(2);
    const page = socket.frames.find((frame) => frame.startsWith('{"id":1'));
    expect(page && bytes(page)).toBeGreaterThan(MAX_BATCH_FRAME_BYTES);
    expect(page).not.toContain('\n');
    expect((await socket.response(1)).result?.type).toBe('data');
    socket.close();
  });

  it('is what the typed client asks for, and it receives every message once and in order', async () => {
    const roomId = await newRoom('typed');
    const follower = await typedFollower(roomId);
    expect(follower.socket()?.protocol).toBe(BATCH_PROTOCOL);
    const framesBefore = follower.frames();
    const sent = await burst(roomId, 40);
    await pollUntil(() => follower.ids.length === 40);
    expect(follower.ids).toEqual(sent.map((m) => m.id));
    expect(follower.frames() - framesBefore).toBeLessThan(10);
    // Calls answer through the same socket.
    const page = await follower.client.chat.history.query({ roomId, limit: 1 });
    expect(page.messages.map((m) => m.id)).toEqual([sent.at(-1)?.id]);
    await follower.close();
  });

  it('resumes without a gap or a duplicate when the server asks the typed client to reconnect', async () => {
    const roomId = await newRoom('resume');
    const follower = await typedFollower(roomId);
    const sent: Message[] = [];
    for (let round = 0; round < 6; round++) {
      sent.push(...(await burst(roomId, 5, (i) => `r${round}.${i}`)));
      if (round === 2) server.running.chat?.transport.broadcastReconnect();
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    await pollUntil(() => follower.ids.length >= sent.length, 10_000);
    expect(follower.ids).toEqual(sent.map((m) => m.id));
    expect(follower.snapshots()).toBe(1);
    await follower.close();
  });
});

/** The typed client's links following a room, live once its snapshot is in. */
async function typedFollower(roomId: string) {
  const { token } = await server.fastUser(uniqueName('typed'));
  let current: Recorded | null = null;
  let frames = 0;
  class Recorded extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      current = this;
      this.on('message', () => {
        frames++;
      });
    }
  }
  const { links, socket } = createChatHubLinks({
    apiUrl: server.apiUrl,
    token: () => token,
    chatUrl: async () => server.wsUrl,
    WebSocket: Recorded,
  });
  const client = createTRPCClient<AppRouter>({ links });
  const ids: string[] = [];
  let snapshots = 0;
  const subscription = client.chat.events.subscribe(
    { roomId },
    {
      onData: ({ data }) => {
        if (data.type === 'snapshot') snapshots++;
        if (data.type === 'message') ids.push(data.message.id);
      },
    },
  );
  await pollUntil(() => snapshots === 1);
  expect(snapshots).toBe(1);
  return {
    client,
    ids,
    snapshots: () => snapshots,
    frames: () => frames,
    socket: (): WebSocket | null => current,
    async close() {
      subscription.unsubscribe();
      await socket.close();
    },
  };
}
