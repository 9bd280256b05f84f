import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  CLOSE_BAD_CONNECTION_PARAMS,
  CLOSE_FRAME_TOO_LARGE,
  CLOSE_INVALID_FRAME,
  CLOSE_NOT_AUTHENTICATED,
  CLOSE_SESSION_EXPIRED,
  CLOSE_TOO_MANY_CONNECTIONS,
  CLOSE_TOO_MANY_REQUESTS,
  CLOSE_TOO_SLOW,
  maxFrameBytes,
} from '../../src/chat/transport/wsTransport.js';
import { BATCH_PROTOCOL } from '../../src/contract/wire.js';
import { settleWithin, tally } from '../helpers/calls.js';
import { failure } from '../helpers/errors.js';
import { RawSocket } from '../helpers/rawSocket.js';
import {
  CONTEXT_REFUSED,
  COUNT_BROKE,
  recordingWebSocket,
  serveToy,
  type ToyServer,
  toyToken,
} from '../helpers/toyTransport.js';
import { pollUntil } from '../helpers/wait.js';

/**
 * The chat transport (src/chat/transport) specified on its own: a toy router (test/helpers/
 * toyTransport.ts) served by createWsTransport on a real `ws` server, with small limits so each
 * bound is crossed quickly. The stock `@trpc/client` drives it where the behaviour is what a
 * client sees; a raw socket where the test must send what a stock client never would.
 */

const ANN = toyToken({ user: 'ann' });

function rawSocket(server: ToyServer, token = ANN, batched = false): Promise<RawSocket> {
  return RawSocket.open(server.url, token, { batched });
}

/** The data a raw socket received for request `id`, in order. */
function dataFor(raw: RawSocket, id: number): unknown[] {
  return raw.responses
    .filter((response) => response.id === id && response.result?.type === 'data')
    .map((response) => response.result?.data);
}

/** What a raw socket received for request `id`: result types, or `error`. */
function answersFor(raw: RawSocket, id: number): string[] {
  return raw.responses
    .filter((response) => response.id === id)
    .map((response) => response.result?.type ?? 'error');
}

const echoCall = (id: number, input: string) => ({
  id,
  method: 'query',
  params: { path: 'echo', input },
});

/** A socket that sends only what the test makes it send, and keeps what it receives. */
async function bareSocket(url: string) {
  const ws = new WebSocket(url);
  const messages: unknown[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  const closed = new Promise<number>((resolve) => ws.once('close', resolve));
  await once(ws, 'open');
  return { ws, messages, closed };
}

describe('calls and subscriptions', () => {
  let server: ToyServer;
  beforeAll(async () => {
    server = await serveToy();
  });
  afterAll(() => server.close());

  it('answers queries, mutations and procedure errors, each by its id', async () => {
    const { trpc } = server.client(ANN);
    const [echoed, total, refused] = await Promise.all([
      trpc.echo.query('hello'),
      trpc.add.mutate(2),
      failure(trpc.refuse.query()),
    ]);
    expect(echoed).toBe('hello');
    expect(total).toBe(2);
    expect(refused).toEqual({ code: 'FORBIDDEN', message: 'The toy refuses this one' });
    expect(await trpc.add.mutate(3)).toBe(5);
  });

  it('streams a generator: started, its values with their tracked ids in order, then stopped', async () => {
    const { trpc } = server.client(ANN);
    const seen: unknown[] = [];
    let completed = false;
    trpc.count.subscribe(
      { to: 3 },
      {
        onStarted: () => seen.push('started'),
        onData: (data) => seen.push(data),
        onError: (error) => seen.push(error),
        onStopped: () => seen.push('stopped'),
        onComplete: () => {
          completed = true;
        },
      },
    );
    await pollUntil(() => completed);
    expect(seen).toEqual([
      'started',
      { id: '1', data: 1 },
      { id: '2', data: 2 },
      { id: '3', data: 3 },
      'stopped',
    ]);
  });

  it('answers an error a generator throws for its id, after the values before it', async () => {
    const { trpc } = server.client(ANN);
    const values: number[] = [];
    const failed: { code: string; message: string }[] = [];
    trpc.count.subscribe(
      { to: 5, breakAt: 3 },
      {
        onData: ({ data }) => values.push(data),
        onError: (error) => failed.push({ code: error.data?.code ?? '', message: error.message }),
      },
    );
    await pollUntil(() => failed.length > 0);
    expect(values).toEqual([1, 2]);
    expect(failed).toEqual([{ code: 'CONFLICT', message: COUNT_BROKE }]);
    expect(await trpc.echo.query('still here')).toBe('still here');
  });

  it('ends a generator on the server when the stock client unsubscribes', async () => {
    const { trpc } = server.client(ANN);
    const ticks: number[] = [];
    const subscription = trpc.ticks.subscribe(undefined, {
      onData: ({ data }) => ticks.push(data),
    });
    await pollUntil(() => ticks.length >= 2);
    expect(server.toy.liveGenerators).toBe(1);
    subscription.unsubscribe();
    await pollUntil(() => server.toy.liveGenerators === 0);
    expect(server.toy.liveGenerators).toBe(0);
  });

  it('answers subscription.stop with stopped, ends the generator and frees the id', async () => {
    const raw = await rawSocket(server);
    raw.request(1, 'subscription', 'ticks', {});
    await raw.until(() => dataFor(raw, 1).length >= 2, 'ticks');
    raw.send({ id: 1, method: 'subscription.stop' });
    await raw.until(() => answersFor(raw, 1).includes('stopped'), 'stopped');
    await pollUntil(() => server.toy.liveGenerators === 0);
    expect(server.toy.liveGenerators).toBe(0);
    expect(answersFor(raw, 1)[0]).toBe('started');
    expect(answersFor(raw, 1).at(-1)).toBe('stopped');
    // The id may name a new subscription at once.
    raw.request(1, 'subscription', 'count', { to: 1 });
    await raw.until(
      () => answersFor(raw, 1).filter((type) => type === 'stopped').length === 2,
      '2nd',
    );
    expect(answersFor(raw, 1).slice(-3)).toEqual(['started', 'data', 'stopped']);
    raw.close();
  });

  it('pipes a Pipeable feed: its own event, then each room event as the same bytes for every member', async () => {
    const members = await Promise.all([rawSocket(server), rawSocket(server)]);
    for (const member of members) member.request(7, 'subscription', 'room', null);
    await pollUntil(() => server.toy.room.members.size === 2);
    server.toy.room.publish();
    for (const member of members) {
      await member.until(() => dataFor(member, 7).length === 2, 'the room event');
      // The feed's async iterator throws: had the transport iterated it, this would be an error.
      expect(answersFor(member, 7)).toEqual(['started', 'data', 'data']);
      expect(dataFor(member, 7)).toEqual([
        { id: '0', data: { type: 'typing', users: [] } },
        { id: '1', data: { type: 'presence', online: 1, users: [] } },
      ]);
    }
    const [first, second] = members.map((member) => member.frames.at(-1));
    expect(first).toBe(second);
    // A member whose socket closes leaves the room.
    for (const member of members) member.close();
    await pollUntil(() => server.toy.room.members.size === 0);
    expect(server.toy.room.members.size).toBe(0);
  });

  it('delivers a Pipeable feed to the stock client, and unsubscribing takes it out of the room', async () => {
    const { trpc } = server.client(ANN);
    const { room } = server.toy;
    const events: unknown[] = [];
    const subscription = trpc.room.subscribe(undefined, { onData: (event) => events.push(event) });
    await pollUntil(() => room.members.size === 1 && events.length === 1);
    room.publish();
    await pollUntil(() => events.length === 2);
    expect(events).toEqual([
      { id: '0', data: { type: 'typing', users: [] } },
      { id: String(room.published), data: { type: 'presence', online: room.published, users: [] } },
    ]);
    subscription.unsubscribe();
    await pollUntil(() => server.toy.room.members.size === 0);
    expect(server.toy.room.members.size).toBe(0);
  });
});

describe('frames it cannot answer, and requests it can', () => {
  let server: ToyServer;
  beforeAll(async () => {
    server = await serveToy();
  });
  afterAll(() => server.close());

  const echo = { path: 'echo', input: 'x' };
  it.each([
    ['malformed JSON', '{"id":1,"method":'],
    ['an empty batch', '[]'],
    ['an id of the wrong type', { id: { n: 1 }, method: 'query', params: echo }],
    ['a request without an id', { method: 'query', params: echo }],
    ['a batch with one id of the wrong type', [echoCall(1, 'x'), { id: true, params: echo }]],
  ])('closes the connection with 1007 on %s, answering nothing', async (_, frame) => {
    const raw = await rawSocket(server);
    raw.send(frame);
    await raw.until(() => raw.closed !== null, 'close');
    expect(raw.closed?.code).toBe(CLOSE_INVALID_FRAME);
    expect(raw.responses).toEqual([]);
  });

  it('answers an unknown method or path with an error for that id, and stays open', async () => {
    const raw = await rawSocket(server);
    raw.send({ id: 1, method: 'teleport', params: echo });
    raw.request(2, 'query', 'nowhere', null);
    raw.request(3, 'mutation', 'echo', 'a query called as a mutation');
    raw.send({ id: 'four', method: 'query', params: { path: 42 } });
    expect((await raw.response(1)).error?.data.code).toBe('PARSE_ERROR');
    expect((await raw.response(2)).error?.data.code).toBe('NOT_FOUND');
    expect((await raw.response(3)).error?.data.code).toBe('NOT_FOUND');
    expect((await raw.response('four')).error?.data.code).toBe('PARSE_ERROR');
    raw.send(echoCall(5, 'still here'));
    expect((await raw.response(5)).result?.data).toBe('still here');
    expect(raw.closed).toBeNull();
    raw.close();
  });
});

describe('createContext and the connection params', () => {
  let server: ToyServer;
  beforeAll(async () => {
    server = await serveToy();
  });
  afterAll(() => server.close());

  it('makes the context from the connection params, or from the request alone without them', async () => {
    expect(await server.client(ANN).trpc.whoami.query()).toBe('ann');
    const fromUrl = server.client(toyToken({ user: 'bob' }), { connectionParams: false });
    expect(await fromUrl.trpc.whoami.query()).toBe('bob');
  });

  it.each(['throw', 'reject'] as const)(
    'answers every call with the error when createContext fails (%s) on a connection without connection params',
    async (fail) => {
      const { trpc } = server.client(toyToken({ fail }), { connectionParams: false });
      const refused = { code: 'UNAUTHORIZED', message: CONTEXT_REFUSED };
      expect(await failure(trpc.echo.query('a'))).toEqual(refused);
      expect(await failure(trpc.add.mutate(1))).toEqual(refused);
    },
  );

  it.each(['throw', 'reject'] as const)(
    'fails the pending call of a stock client whose connection params createContext refuses (%s), closing with 1008',
    async (fail) => {
      const { trpc, closes } = server.client(toyToken({ fail }));
      const [outcome] = await settleWithin([trpc.echo.query('a')]);
      expect(outcome?.ok).toBe(false);
      await pollUntil(() => closes.length > 0);
      expect(closes[0]).toBe(CLOSE_BAD_CONNECTION_PARAMS);
    },
  );

  it.each([
    [
      'a request first',
      echoCall(1, 'x'),
      'PARSE_ERROR',
      'The first frame must carry connectionParams',
    ],
    [
      'connection params that are not strings',
      { method: 'connectionParams', data: { token: 5 } },
      'PARSE_ERROR',
      'Invalid connection params shape',
    ],
    [
      'connection params createContext throws on',
      { method: 'connectionParams', data: { token: toyToken({ fail: 'throw' }) } },
      'UNAUTHORIZED',
      CONTEXT_REFUSED,
    ],
    [
      'connection params createContext rejects',
      { method: 'connectionParams', data: { token: toyToken({ fail: 'reject' }) } },
      'UNAUTHORIZED',
      CONTEXT_REFUSED,
    ],
  ])('says why (id null) and closes with 1008 on %s', async (_, first, code, message) => {
    const socket = await bareSocket(`${server.url}?connectionParams=1`);
    socket.ws.send(JSON.stringify(first));
    expect(await socket.closed).toBe(CLOSE_BAD_CONNECTION_PARAMS);
    expect(socket.messages).toEqual([
      expect.objectContaining({ id: null, error: expect.objectContaining({ message }) }),
    ]);
    expect(socket.messages[0]).toMatchObject({ error: { data: { code } } });
  });
});

describe('batches and the frame limit', () => {
  const MAX_BATCH = 4;
  let server: ToyServer;
  beforeAll(async () => {
    server = await serveToy({ maxBatch: MAX_BATCH });
  });
  afterAll(() => server.close());

  /** A batch of maxBatch echo calls, padded to exactly `bytes`. */
  function echoBatch(bytes: number): string {
    const ids = Array.from({ length: MAX_BATCH }, (_, i) => i + 1);
    const batch = (pads: number[]) =>
      JSON.stringify(ids.map((id, i) => echoCall(id, 'x'.repeat(pads[i] ?? 0))));
    const padding = bytes - batch([]).length;
    const each = Math.floor(padding / MAX_BATCH);
    return batch(ids.map((id) => (id === 1 ? padding - (MAX_BATCH - 1) * each : each)));
  }

  it('answers a batch of maxBatch calls id by id', async () => {
    const raw = await rawSocket(server);
    const ids = Array.from({ length: MAX_BATCH }, (_, i) => i + 1);
    raw.send(ids.map((id) => echoCall(id, `call ${id}`)));
    for (const id of ids) expect((await raw.response(id)).result?.data).toBe(`call ${id}`);
    raw.close();
  });

  it('answers each call of a larger batch with its own PAYLOAD_TOO_LARGE, and runs none', async () => {
    const { trpc } = server.client(ANN);
    const before = server.toy.total;
    const calls = Array.from({ length: MAX_BATCH + 1 }, () => trpc.add.mutate(1));
    const outcomes = await settleWithin(calls);
    expect(tally(outcomes)).toEqual({ PAYLOAD_TOO_LARGE: MAX_BATCH + 1 });
    expect(outcomes[0]).toMatchObject({
      message: `Too many calls sent together (${MAX_BATCH + 1}); at most ${MAX_BATCH} may be batched`,
    });
    expect(server.toy.total).toBe(before);
    expect(await trpc.add.mutate(1)).toBe(before + 1);
  });

  it('honours a subscription.stop even in a batch it refuses', async () => {
    const raw = await rawSocket(server);
    raw.request(1, 'subscription', 'ticks', {});
    await raw.until(() => dataFor(raw, 1).length > 0, 'a tick');
    const calls = [2, 3, 4, 5].map((id) => echoCall(id, 'x'));
    raw.send([{ id: 1, method: 'subscription.stop' }, ...calls]);
    for (const { id } of calls) {
      expect((await raw.response(id)).error?.data.code).toBe('PAYLOAD_TOO_LARGE');
    }
    await raw.until(() => answersFor(raw, 1).includes('stopped'), 'stopped');
    await pollUntil(() => server.toy.liveGenerators === 0);
    expect(server.toy.liveGenerators).toBe(0);
    raw.close();
  });

  it('reads a frame of exactly the frame limit, and closes with 1009 on one byte more', async () => {
    const limit = maxFrameBytes(MAX_BATCH);
    const largest = echoBatch(limit);
    expect(Buffer.byteLength(largest)).toBe(limit);
    const raw = await rawSocket(server);
    raw.send(largest);
    for (const id of [1, 2, 3, 4]) expect((await raw.response(id)).result?.type).toBe('data');

    const oversized = await rawSocket(server);
    oversized.send(echoBatch(limit + 1));
    await oversized.until(() => oversized.closed !== null, 'close');
    expect(oversized.closed?.code).toBe(CLOSE_FRAME_TOO_LARGE);
    expect(oversized.responses).toEqual([]);
    // Nobody else notices.
    raw.send(echoCall(9, 'still here'));
    expect((await raw.response(9)).result?.data).toBe('still here');
    raw.close();
  });
});

describe('the request budget', () => {
  const BURST = 5;
  let server: ToyServer;
  beforeAll(async () => {
    // The rate barely refills during a test: what is spent stays spent.
    server = await serveToy({ requestBurst: BURST, requestsPerSecond: 0.001, maxBatch: 10 });
  });
  afterAll(() => server.close());

  it('serves a burst, refuses each call past it with TOO_MANY_REQUESTS, and closes with 4029 a burst later', async () => {
    const { trpc, closes } = server.client(ANN);
    const wave = (size: number) =>
      settleWithin(Array.from({ length: size }, (_, i) => trpc.echo.query(`${i}`)));
    expect(tally(await wave(BURST))).toEqual({ ok: BURST });
    const refused = await wave(BURST + 1);
    expect(tally(refused)).toEqual({ TOO_MANY_REQUESTS: BURST, closed: 1 });
    expect(refused[0]).toMatchObject({ message: 'Too many requests on this connection' });
    await pollUntil(() => closes.length > 0);
    expect(closes[0]).toBe(CLOSE_TOO_MANY_REQUESTS);
  });

  it('meters PINGs too: a PONG for each until a burst in debt, then 4029', async () => {
    const raw = await rawSocket(server);
    for (let i = 0; i < 2 * BURST + 1; i++) raw.send('PING');
    await raw.until(() => raw.closed !== null, 'close');
    expect(raw.closed?.code).toBe(CLOSE_TOO_MANY_REQUESTS);
    expect(raw.frames).toEqual(Array(2 * BURST).fill('PONG'));
  });
});

describe('the reconnect notice and drain', () => {
  let server: ToyServer;
  beforeEach(async () => {
    server = await serveToy();
  });
  afterEach(() => server.close());

  it('broadcastReconnect: the stock client reconnects and resumes after the last tracked id it saw', async () => {
    const { trpc } = server.client(ANN);
    const ids: string[] = [];
    const subscription = trpc.ticks.subscribe(undefined, { onData: ({ id }) => ids.push(id) });
    await pollUntil(() => ids.length >= 3);
    server.transport.broadcastReconnect();
    await pollUntil(() => server.toy.ticksStartedAfter.length === 2);
    const resumedAfter = server.toy.ticksStartedAfter[1];
    await pollUntil(() => ids.length >= Number(resumedAfter) + 3);
    // (The stock client may reconnect twice: the old socket's close starts another reconnect.)
    expect(server.accepted()).toBeGreaterThanOrEqual(2);
    expect(server.toy.reconnectsAsked).toBe(1);
    expect(ids).toContain(resumedAfter);
    // Every tick once, in order, across the reconnect.
    expect(ids).toEqual(ids.map((_, i) => String(i + 1)));
    subscription.unsubscribe();
  });

  it('drain refuses new calls with SERVICE_UNAVAILABLE, lets calls under way finish, then sends the notice', async () => {
    const raw = await rawSocket(server);
    raw.request(1, 'mutation', 'slow', null);
    await pollUntil(() => server.toy.slowStarted === 1);
    let drained = false;
    const draining = server.transport.drain(10_000).then(() => {
      drained = true;
    });
    raw.send(echoCall(2, 'too late'));
    expect((await raw.response(2)).error).toMatchObject({
      message: 'This chat server is restarting; your client will reconnect to another',
      data: { code: 'SERVICE_UNAVAILABLE' },
    });
    expect(drained).toBe(false);
    server.toy.release();
    await draining;
    await raw.until(() => raw.responses.some((r) => r.method === 'reconnect'), 'the notice');
    // The answer to the call under way went out before the notice.
    expect(raw.responses.map((r) => r.method ?? r.id)).toEqual([2, 1, 'reconnect']);
    expect(raw.responses[1]?.result?.data).toBe('finished');
    expect(raw.responses[2]).toEqual({ id: null, method: 'reconnect' });
  });

  it('drain does not wait for live subscriptions: their clients are asked to reconnect', async () => {
    const { trpc } = server.client(ANN);
    const ticks: number[] = [];
    trpc.ticks.subscribe(undefined, { onData: ({ data }) => ticks.push(data) });
    await pollUntil(() => ticks.length > 0);
    let drained = false;
    void server.transport.drain(60_000).then(() => {
      drained = true;
    });
    await pollUntil(() => drained && server.accepted() === 2);
    expect(drained).toBe(true);
    expect(server.accepted()).toBe(2);
  });
});

describe('the output budget', () => {
  const BUDGET = 256 * 1024;
  const CHUNK = 16 * 1024;
  /** A frame's header takes at most this many bytes besides its payload. */
  const MAX_HEADER = 10;
  let server: ToyServer;
  afterEach(() => server.close());

  /** A client that subscribes to a pouring generator, reads its first value, then stops reading. */
  async function stopsReading(): Promise<RawSocket> {
    const raw = await rawSocket(server);
    raw.request(1, 'subscription', 'pour', CHUNK);
    await raw.until(() => dataFor(raw, 1).length > 0, 'the first value');
    raw.ws.pause();
    return raw;
  }

  it('closes a client that stops reading with 4008, never holding more than the budget and one frame', async () => {
    server = await serveToy({ maxBufferedBytes: BUDGET, closeTimeoutMs: 10_000 });
    const raw = await stopsReading();
    const frameBytes = Buffer.byteLength(raw.frames.at(-1) ?? '') + MAX_HEADER;
    await pollUntil(() => server.toy.slowConsumersDropped === 1, 10_000);
    expect(server.toy.slowConsumersDropped).toBe(1);
    // The subscription ended with the drop.
    await pollUntil(() => server.toy.liveGenerators === 0);
    expect(server.toy.liveGenerators).toBe(0);
    expect(server.toy.peakBacklog).toBeGreaterThan(BUDGET);
    expect(server.toy.peakBacklog).toBeLessThanOrEqual(BUDGET + frameBytes);
    // Once it reads again, what was queued arrives, then the close.
    raw.ws.resume();
    await raw.until(() => raw.closed !== null, 'close', 10_000);
    expect(raw.closed?.code).toBe(CLOSE_TOO_SLOW);
  });

  it('cuts a client that still does not read closeTimeoutMs after its close', async () => {
    server = await serveToy({ maxBufferedBytes: BUDGET, closeTimeoutMs: 300 });
    await stopsReading();
    await pollUntil(() => server.toy.slowConsumersDropped === 1, 10_000);
    // Closed, not cut: the close frame waits behind what the client has not read.
    expect(server.openSockets()).toBe(1);
    await pollUntil(() => server.openSockets() === 0);
    expect(server.openSockets()).toBe(0);
  });

  it('counts room events against the same budget: a turn of them past it drops the member', async () => {
    server = await serveToy({ maxBufferedBytes: BUDGET, closeTimeoutMs: 10_000 });
    const raw = await rawSocket(server);
    raw.request(1, 'subscription', 'room', null);
    await pollUntil(() => server.toy.room.members.size === 1);
    // Queued within one turn, before any is written: more than the budget holds.
    for (let i = 0; i < 10_000; i++) server.toy.room.publish();
    expect(server.toy.slowConsumersDropped).toBe(1);
    expect(server.toy.room.members.size).toBe(0);
    await raw.until(() => raw.closed !== null, 'close');
    expect(raw.closed?.code).toBe(CLOSE_TOO_SLOW);
  });
});

describe('keep-alive', () => {
  const PING_MS = 200;
  const PONG_WAIT_MS = 200;
  let server: ToyServer;
  beforeAll(async () => {
    server = await serveToy({ pingMs: PING_MS, pongWaitMs: PONG_WAIT_MS });
  });
  afterAll(() => server.close());

  it('answers PING with PONG', async () => {
    const raw = await rawSocket(server);
    raw.send('PING');
    await pollUntil(() => raw.frames.includes('PONG'));
    expect(raw.frames).toContain('PONG');
    raw.close();
  });

  it('pings a silent client and cuts it when no answer comes within pongWaitMs', async () => {
    const opened = Date.now();
    const raw = await rawSocket(server);
    await raw.until(() => raw.closed !== null, 'the cut');
    expect(raw.frames).toEqual(['PING']);
    // Cut, not closed: no close frame.
    expect(raw.closed?.code).toBe(1006);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(PING_MS + PONG_WAIT_MS);
  });

  it('keeps a client that answers its pings, as the stock client does', async () => {
    const { Recording, frames } = recordingWebSocket();
    const { trpc, closes } = server.client(ANN, { WebSocket: Recording });
    expect(await trpc.echo.query('first')).toBe('first');
    const pings = () => frames.filter((frame) => frame === 'PING').length;
    await pollUntil(() => pings() >= 3);
    expect(pings()).toBeGreaterThanOrEqual(3);
    expect(closes).toEqual([]);
    expect(await trpc.echo.query('still here')).toBe('still here');
  });
});

describe('the authentication deadline and session expiry', () => {
  const AUTH_TIMEOUT_MS = 300;
  let server: ToyServer;
  beforeEach(async () => {
    server = await serveToy({ authTimeoutMs: AUTH_TIMEOUT_MS, maxConnectionsPerUser: 1 });
  });
  afterEach(() => server.close());

  it('closes sockets without a valid session at the deadline (4002), and keeps one with a session', async () => {
    const silent = await bareSocket(`${server.url}?connectionParams=1`);
    const anonymous = await rawSocket(server, toyToken({}));
    const expired = await rawSocket(server, toyToken({ user: 'old', ttlMs: -1 }));
    const member = await rawSocket(server);
    // Until the deadline, calls are answered (the procedures decide what an anonymous caller gets).
    anonymous.request(1, 'query', 'whoami', null);
    expect((await anonymous.response(1)).result?.data).toBeNull();
    // Only the socket with a valid session counts as this server's load.
    await pollUntil(() => server.transport.connectionCount() === 1);
    expect(server.transport.connectionCount()).toBe(1);

    expect(await silent.closed).toBe(CLOSE_NOT_AUTHENTICATED);
    for (const socket of [anonymous, expired]) {
      await socket.until(() => socket.closed !== null, 'close');
      expect(socket.closed?.code).toBe(CLOSE_NOT_AUTHENTICATED);
    }
    member.request(1, 'query', 'whoami', null);
    expect((await member.response(1)).result?.data).toBe('ann');
    expect(member.closed).toBeNull();
    member.close();
  });

  it('closes a socket when its session expires (4001)', async () => {
    const { trpc, closes } = server.client(toyToken({ user: 'ann', ttlMs: 2 * AUTH_TIMEOUT_MS }));
    expect(await trpc.whoami.query()).toBe('ann');
    await pollUntil(() => closes.length > 0);
    expect(closes[0]).toBe(CLOSE_SESSION_EXPIRED);
  });

  it('refuses the calls of a user past maxConnectionsPerUser, then closes that socket with 4030', async () => {
    const first = server.client(ANN);
    expect(await first.trpc.whoami.query()).toBe('ann');
    const extra = server.client(ANN);
    expect(await failure(extra.trpc.whoami.query())).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    await pollUntil(() => extra.closes.length > 0);
    expect(extra.closes[0]).toBe(CLOSE_TOO_MANY_CONNECTIONS);
    expect(first.closes).toEqual([]);
  });
});

describe('the batched wire mode', () => {
  let server: ToyServer;
  beforeAll(async () => {
    server = await serveToy();
  });
  afterAll(() => server.close());

  it('gives a client that asks for it what one turn holds in one frame, a message per line', async () => {
    const raw = await rawSocket(server, ANN, true);
    expect(raw.ws.protocol).toBe(BATCH_PROTOCOL);
    raw.send([1, 2, 3, 4].map((id) => echoCall(id, `call ${id}`)));
    await raw.until(() => raw.responses.length === 4, 'the answers');
    expect(raw.frames).toHaveLength(1);
    const lines = raw.frames[0]?.split('\n').map((line) => JSON.parse(line));
    expect(lines?.map(({ id }) => id)).toEqual([1, 2, 3, 4]);
    raw.close();
  });

  it('never merges for the stock client, which does not ask: one message per frame', async () => {
    const { Recording, frames } = recordingWebSocket();
    const { trpc } = server.client(ANN, { WebSocket: Recording });
    const events: unknown[] = [];
    trpc.room.subscribe(undefined, { onData: (event) => events.push(event) });
    const batched = await rawSocket(server, ANN, true);
    batched.request(1, 'subscription', 'room', null);
    await pollUntil(() => server.toy.room.members.size === 2 && events.length === 1);
    await batched.until(() => dataFor(batched, 1).length === 1, 'its own event');
    const stockBefore = frames.length;
    const batchedBefore = batched.frames.length;
    for (let i = 0; i < 3; i++) server.toy.room.publish();
    await pollUntil(() => events.length === 4);
    await batched.until(() => dataFor(batched, 1).length === 4, 'the room events');
    expect(frames.slice(stockBefore)).toHaveLength(3);
    expect(batched.frames.slice(batchedBefore)).toHaveLength(1);

    const answers = await Promise.all([1, 2, 3, 4].map((n) => trpc.echo.query(`call ${n}`)));
    expect(answers).toEqual(['call 1', 'call 2', 'call 3', 'call 4']);
    for (const frame of frames) expect(frame).not.toContain('\n');
    expect(frames.slice(stockBefore + 3)).toHaveLength(4);
    batched.close();
  });
});
