import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as closeCodes from '../../src/chat/transport/closeCodes.js';
import { MAX_ID_LENGTH } from '../../src/chat/transport/protocol.js';
import { maxFrameBytes } from '../../src/chat/transport/transportLimits.js';
import { LIMITS } from '../../src/contract/limits.js';
import { BATCH_PROTOCOL, MAX_BATCH_FRAME_BYTES } from '../../src/contract/wire.js';
import { TRANSPORT_DEFAULTS } from '../../src/limits.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import { Waiters } from '../helpers/wait.js';

/**
 * Random frames against a live server: requests of every shape (ids of every type, known and
 * unknown methods and paths, valid and invalid inputs, subscriptions started and stopped),
 * batches around the limit, stray JSON, non-JSON and frames past the size limit. On every socket
 * the server must answer each request id it was sent, or close the socket with a documented code
 * (and the code the frame calls for, when it was one it cannot read). It must not crash and its
 * memory must stay bounded. Half the sockets ask for the batched wire mode: their answers may
 * share frames, one per line, and a frame holding several is never past MAX_BATCH_FRAME_BYTES.
 *
 * Deterministic: the seed is fixed. A failure prints its seed and path; run again with FUZZ_SEED
 * and FUZZ_PATH set to them to replay exactly that case (FUZZ_RUNS changes the number of runs).
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_808);
const PATH = process.env.FUZZ_PATH;
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const FRAME_LIMIT = maxFrameBytes(TRANSPORT_DEFAULTS.maxBatch);
const DOCUMENTED_CLOSES = new Set<number>(Object.values(closeCodes));
const USERS = 4;

let server: TestServer;
const tokens: string[] = [];
beforeAll(async () => {
  server = await startTestServer();
  for (let i = 0; i < USERS; i++) tokens.push((await server.fastUser(uniqueName('fuzz'))).token);
});
afterAll(() => server.stop());

// ── What the fuzzer sends ────────────────────────────────────────────────────────────────────

/** Ids an answer can carry, with a few small ones often enough to collide. */
const requestId = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom<unknown>(0, 1, 2, 'a', 'b', -1, '') },
  { weight: 4, arbitrary: fc.integer() },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant('i'.repeat(MAX_ID_LENGTH)) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);
/** Ids no answer can carry back, or too long to be worth carrying. */
const unanswerableId = fc.constantFrom<unknown>(
  null,
  true,
  undefined,
  {},
  [1],
  Number.NaN,
  'i'.repeat(MAX_ID_LENGTH + 1),
);

const body = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    '   ',
    'x'.repeat(LIMITS.messageMax),
    '\u0001'.repeat(LIMITS.messageMax),
    'y'.repeat(LIMITS.messageMax + 1),
    'z'.repeat(200_000),
  ),
);

const roomId = fc.constantFrom<unknown>('general', 'nope', '../etc', '', 42, 'x'.repeat(100));

const validishInput = fc.oneof(
  fc.record({ roomId, body }),
  fc.record({ roomId, limit: fc.integer({ min: -5, max: 200 }) }, { requiredKeys: ['roomId'] }),
  fc.record({
    messageId: fc.constantFrom('01ARZ3NDEKTSV4RRFFQ69G5FAV', 'nope', ''),
    vote: fc.constantFrom('up', 'down', 'none', 'sideways'),
  }),
  fc.record(
    { roomId, lastEventId: fc.oneof(fc.stringMatching(/^\d{1,6}$/), fc.string({ maxLength: 8 })) },
    { requiredKeys: ['roomId'] },
  ),
);

const params = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      {
        path: fc.constantFrom<unknown>(
          'chat.history',
          'chat.send',
          'chat.vote',
          'chat.events',
          'chat.nope',
          'auth.signIn',
          '',
          '__proto__',
          'toString',
          7,
        ),
        input: fc.oneof(
          { weight: 4, arbitrary: validishInput },
          { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
        ),
        lastEventId: fc.oneof(
          fc.stringMatching(/^\d{1,4}$/),
          fc.string({ maxLength: 6 }),
          fc.nat(),
        ),
      },
      { requiredKeys: ['path'] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const requestWith = (id: fc.Arbitrary<unknown>) =>
  fc.record(
    {
      id,
      jsonrpc: fc.constantFrom<unknown>('2.0', '1.0', 2),
      method: fc.constantFrom<unknown>(
        'query',
        'mutation',
        'subscription',
        'subscription',
        'subscription.stop',
        'connectionParams',
        'teleport',
        3,
      ),
      params,
    },
    { requiredKeys: ['id', 'method'] },
  );
const request = requestWith(requestId);

/** Mostly requests; now and then a frame the server cannot read, which ends the socket. */
const frame = fc.oneof(
  { weight: 20, arbitrary: request.map((r) => JSON.stringify(r)) },
  {
    weight: 8,
    arbitrary: fc.array(request, { minLength: 1, maxLength: 8 }).map((r) => JSON.stringify(r)),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(request, {
        minLength: TRANSPORT_DEFAULTS.maxBatch - 1,
        maxLength: TRANSPORT_DEFAULTS.maxBatch + 3,
      })
      .map((r) => JSON.stringify(r)),
  },
  { weight: 2, arbitrary: fc.constantFrom('PING', 'PONG') },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom('[]', '{}', 'null', '"x"', '[[]]', '{"id":1e400}'),
      fc
        .tuple(fc.array(request, { maxLength: 3 }), requestWith(unanswerableId))
        .map(([answerable, unanswerable]) => JSON.stringify([...answerable, unanswerable])),
      fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
      fc.string({ maxLength: 30 }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      JSON.stringify({ id: 1, method: 'query', params: { path: 'x', input: 'y'.repeat(500_000) } }),
      JSON.stringify('z'.repeat(FRAME_LIMIT)),
    ),
  },
);

const session = fc.record({
  user: fc.nat({ max: USERS - 1 }),
  validToken: fc.boolean(),
  batched: fc.boolean(),
  frames: fc.array(frame, { minLength: 1, maxLength: 12 }),
});

// ── What the server owes for what it was sent ────────────────────────────────────────────────

/** An answer's id as a key that keeps its type: 1 and "1" are different requests. */
const keyOf = (id: unknown) => JSON.stringify(id);

type Owed = { close: number } | { requests: { key: string; kind: RequestKind }[] };
type RequestKind = 'call' | 'subscription' | 'stop';

/** The protocol's contract for one frame, worked out independently of the server's code. */
function owedFor(text: string): Owed {
  if (text === 'PING' || text === 'PONG') return { requests: [] };
  if (Buffer.byteLength(text) > FRAME_LIMIT) return { close: closeCodes.CLOSE_FRAME_TOO_LARGE };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { close: closeCodes.CLOSE_INVALID_FRAME };
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) return { close: closeCodes.CLOSE_INVALID_FRAME };
  const requests: { key: string; kind: RequestKind }[] = [];
  for (const item of items) {
    const { id, method } = (item ?? {}) as { id?: unknown; method?: unknown };
    const answerable =
      typeof item === 'object' &&
      item !== null &&
      ((typeof id === 'string' && id.length <= MAX_ID_LENGTH) ||
        (typeof id === 'number' && Number.isFinite(id)));
    if (!answerable) return { close: closeCodes.CLOSE_INVALID_FRAME };
    const kind =
      method === 'subscription.stop' ? 'stop' : method === 'subscription' ? 'subscription' : 'call';
    requests.push({ key: keyOf(id), kind });
  }
  return { requests };
}

class FuzzSocket {
  readonly answers = new Map<string, number>();
  closed: number | null = null;
  /** Batched frames that held several answers yet were larger than a batched frame may be. */
  readonly oversized: number[] = [];
  private readonly waiters = new Waiters();

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === 'PING') ws.send('PONG');
      if (text === 'PING' || text === 'PONG') return;
      const messages = ws.protocol === BATCH_PROTOCOL ? text.split('\n') : [text];
      if (messages.length > 1 && Buffer.byteLength(text) > MAX_BATCH_FRAME_BYTES) {
        this.oversized.push(Buffer.byteLength(text));
      }
      for (const message of messages) {
        const key = keyOf((JSON.parse(message) as { id: unknown }).id);
        this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
      }
      this.waiters.notify();
    });
    ws.on('close', (code) => {
      this.closed = code;
      this.waiters.notify();
    });
  }

  until(condition: () => boolean, what: () => string): Promise<void> {
    return this.waiters.until(condition, what, 10_000);
  }
}

async function openSocket(token: string, batched: boolean): Promise<FuzzSocket> {
  const ws = new WebSocket(`${server.wsUrl}?connectionParams=1`, batched ? [BATCH_PROTOCOL] : []);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  expect(ws.protocol).toBe(batched ? BATCH_PROTOCOL : '');
  const socket = new FuzzSocket(ws);
  ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
  return socket;
}

/** Sends the frames, then waits until every owed answer arrived or the socket closed. */
async function play(token: string, frames: string[], batched: boolean): Promise<void> {
  const socket = await openSocket(token, batched);
  /** Requests still owed an answer, by id key: a count, since ids repeat. */
  const owed = new Map<string, { calls: number; subscriptions: number }>();
  const entry = (key: string) => {
    const found = owed.get(key) ?? { calls: 0, subscriptions: 0 };
    owed.set(key, found);
    return found;
  };
  let expectedClose: number | null = null;
  for (const text of frames) {
    if (socket.closed !== null) break;
    socket.ws.send(text);
    const due = owedFor(text);
    if ('close' in due) {
      expectedClose = due.close;
      break;
    }
    for (const { key, kind } of due.requests) {
      // A subscription the client stops may end before it was ever answered.
      if (kind === 'stop') entry(key).subscriptions = 0;
      else if (kind === 'subscription') entry(key).subscriptions++;
      else entry(key).calls++;
    }
  }
  const unanswered = () =>
    [...owed].filter(([key, n]) => (socket.answers.get(key) ?? 0) < n.calls + n.subscriptions);
  const describe = () =>
    `answers to ${JSON.stringify(unanswered())} or a close (got ${JSON.stringify([...socket.answers])})`;
  if (expectedClose !== null) {
    await socket.until(() => socket.closed !== null, describe);
    expect(socket.closed).toBe(expectedClose);
  } else {
    await socket.until(() => socket.closed !== null || unanswered().length === 0, describe);
    if (socket.closed !== null) {
      expect(DOCUMENTED_CLOSES.has(socket.closed), `close code ${socket.closed}`).toBe(true);
    } else {
      socket.ws.close();
      await socket.until(
        () => socket.closed !== null,
        () => 'the socket to close',
      );
    }
  }
  expect(socket.oversized).toEqual([]);
}

describe('the WebSocket protocol under random input', () => {
  it('answers every request id or closes the socket, and stays up and bounded', async () => {
    const rssBefore = process.memoryUsage().rss;
    await fc.assert(
      fc.asyncProperty(session, async ({ user, validToken, batched, frames }) => {
        await play(validToken ? (tokens[user] ?? '') : 'not-a-token', frames, batched);
      }),
      { seed: SEED, path: PATH, numRuns: RUNS, plugins: [fc.interruptAfterTimeLimit(40_000)] },
    );
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
    // Still serving: health, and a signed-in call over a fresh socket.
    expect((await fetch(`${server.apiUrl}/healthz`)).status).toBe(200);
    const page = await server.chatClient(tokens[0] ?? '').chat.chat.history.query({
      roomId: 'general',
      limit: 1,
    });
    expect(page.messages.length).toBeLessThanOrEqual(1);
  }, 90_000);
});
