import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CLOSE_TOO_SLOW } from '../../src/chat/transport/wsTransport.js';
import { LIMITS } from '../../src/contract/limits.js';
import type { PublicUser } from '../../src/contract/models.js';
import { TRANSPORT_DEFAULTS } from '../../src/limits.js';
import { settleWithin, tally } from '../helpers/calls.js';
import { RawSocket } from '../helpers/rawSocket.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import { pollUntil } from '../helpers/wait.js';

/**
 * One output budget per connection: replies to queries count like live events, so a client that
 * keeps asking for history and never reads is dropped instead of growing the server.
 */

const BUDGET = TRANSPORT_DEFAULTS.maxBufferedBytes;
const CLOSE_TIMEOUT_MS = 2_000;

let server: TestServer;
let author: PublicUser;
beforeAll(async () => {
  server = await startTestServer(
    {},
    {
      transportLimits: { closeTimeoutMs: CLOSE_TIMEOUT_MS },
      rateLimits: { messages: { perSecond: 1000, burst: 1000 } },
    },
  );
  author = (await server.fastUser(uniqueName('author'))).user;
});
afterAll(() => server.stop());

/** A room whose history page of the most messages is as large as a reply gets (~200 KB). */
async function roomWithLongHistory(): Promise<string> {
  const roomId = (await server.running.services.rooms.create(uniqueName('long'))).id;
  for (let i = 0; i < LIMITS.historyPageMax; i++) {
    const body = `${i} `.padEnd(LIMITS.messageMax, 'x');
    await server.chat.messages.send(author, { roomId, body });
  }
  return roomId;
}

/** Room members on this server: a dropped connection's subscriptions end at once. */
const members = () => server.chat.hub.localMembers();

const transport = () => {
  const chat = server.running.chat;
  if (!chat) throw new Error('no chat role');
  return chat.transport;
};

/** The largest a history reply gets, measured on a client that reads. */
async function largestReplyBytes(roomId: string, token: string): Promise<number> {
  const reader = await RawSocket.open(server.wsUrl, token);
  reader.request(1, 'query', 'chat.history', { roomId, limit: LIMITS.historyPageMax });
  const bytes = Buffer.byteLength(JSON.stringify(await reader.response(1)));
  reader.close();
  return bytes;
}

/**
 * A signed-in client that subscribes, stops reading its socket, then asks for the largest history
 * page at the connection's request rate for as long as the server keeps it.
 */
async function neverReading(roomId: string, token: string, batched = false) {
  const raw = await RawSocket.open(server.wsUrl, token, { batched });
  raw.request(0, 'subscription', 'chat.events', { roomId });
  await raw.response(0);
  raw.ws.pause();
  let id = 1;
  const flood = setInterval(() => {
    if (raw.ws.readyState !== WebSocket.OPEN) return;
    for (let i = 0; i < 10; i++) {
      raw.request(id++, 'query', 'chat.history', { roomId, limit: LIMITS.historyPageMax });
    }
  }, 200);
  return {
    raw,
    stop: () => clearInterval(flood),
  };
}

/** Samples the largest backlog any connection has, until stopped. */
function sampleBacklog() {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, transport().largestBacklog());
  }, 1);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

describe('one output budget per connection', () => {
  it.each([
    ['one message per frame', false],
    ['the batched wire mode', true],
  ])(
    'closes a client that stops reading with 4008 once its replies pass the budget (%s)',
    async (_, batched) => {
      const roomId = await roomWithLongHistory();
      const { token } = await server.fastUser(uniqueName('slow'));
      const reply = await largestReplyBytes(roomId, token);
      const sampler = sampleBacklog();
      const client = await neverReading(roomId, token, batched);
      // Dropping it ends its subscription at once: it leaves the room.
      await pollUntil(() => members() === 0, 20_000);
      expect(members()).toBe(0);
      client.stop();
      expect(sampler.stop()).toBeLessThanOrEqual(BUDGET + reply);
      // It reads again before the close times out: what was queued arrives, then the close.
      client.raw.ws.resume();
      await client.raw.until(() => client.raw.closed !== null, 'close', 10_000);
      expect(client.raw.closed?.code).toBe(CLOSE_TOO_SLOW);
    },
  );

  it('cuts never-reading clients off and keeps the server within a bounded memory', async () => {
    const roomId = await roomWithLongHistory();
    const tokens = await Promise.all(
      [1, 2, 3, 4].map(async (i) => (await server.fastUser(uniqueName(`hog${i}-`))).token),
    );
    const reply = await largestReplyBytes(roomId, tokens[0] ?? '');
    const rssBefore = process.memoryUsage().rss;
    const sampler = sampleBacklog();
    const clients = await Promise.all(tokens.map((token) => neverReading(roomId, token)));
    let rssPeak = rssBefore;
    const rssSampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 20);
    await pollUntil(() => transport().connectionCount() === 0, 20_000);
    expect(transport().connectionCount()).toBe(0);
    clearInterval(rssSampler);
    for (const client of clients) client.stop();
    expect(sampler.stop()).toBeLessThanOrEqual(BUDGET + reply);
    // Four connections of at most budget + one reply each, with generous room for the rest.
    expect(rssPeak - rssBefore).toBeLessThan(200 * 1024 * 1024);
    for (const client of clients) {
      client.raw.ws.resume();
      await client.raw.until(() => client.raw.closed !== null, 'close', 10_000);
    }
  });

  it('lets a stock client that was dropped for reading too slowly resume without a gap', async () => {
    const roomId = await roomWithLongHistory();
    const { token } = await server.fastUser(uniqueName('resumer'));
    const closes: number[] = [];
    const { chat } = server.chatClient(token, undefined, {
      WebSocket: PausableWebSocket,
      onClose: (code) => closes.push(code),
    });
    const received: string[] = [];
    let snapshots = 0;
    const subscription = chat.chat.events.subscribe(
      { roomId },
      {
        onData: ({ data }) => {
          if (data.type === 'snapshot') snapshots++;
          if (data.type === 'message') received.push(data.message.id);
        },
      },
    );
    await pollUntil(() => snapshots === 1);
    const send = async (body: string) =>
      (await server.chat.messages.send(author, { roomId, body })).id;
    const first = await send('before');
    await pollUntil(() => received.includes(first));
    expect(received).toEqual([first]);

    PausableWebSocket.latest?.pause();
    const calls: Promise<unknown>[] = [];
    for (let tick = 0; tick < 2; tick++) {
      for (let i = 0; i < TRANSPORT_DEFAULTS.maxBatch; i++) {
        calls.push(chat.chat.history.query({ roomId, limit: LIMITS.historyPageMax }));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await pollUntil(() => members() === 0, 20_000);
    expect(members()).toBe(0);
    const missed = await send('while dropped');
    PausableWebSocket.latest?.resume();

    // Replies queued before the drop arrive; the calls still waiting fail with the close.
    const outcomes = tally(await settleWithin(calls));
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.closed).toBeGreaterThan(0);
    await pollUntil(() => received.includes(missed), 10_000);
    const after = await send('after');
    await pollUntil(() => received.includes(after), 10_000);
    expect(received).toEqual([first, missed, after]);
    expect(snapshots).toBe(1);
    expect(closes[0]).toBe(CLOSE_TOO_SLOW);
    subscription.unsubscribe();
  });
});

/** `ws` that remembers its latest instance, so a test can stop the stock client's reading. */
class PausableWebSocket extends WebSocket {
  static latest: PausableWebSocket | null = null;

  constructor(url: string) {
    super(url);
    PausableWebSocket.latest = this;
  }
}
