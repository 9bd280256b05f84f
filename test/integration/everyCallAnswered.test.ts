import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_FRAME_TOO_LARGE, maxFrameBytes } from '../../src/chat/transport/wsTransport.js';
import { LIMITS } from '../../src/contract/limits.js';
import { TRANSPORT_DEFAULTS } from '../../src/limits.js';
import { settleWithin, tally } from '../helpers/calls.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';

/**
 * The stock client sends every call made in one tick as one frame. Whatever that frame holds,
 * each call must settle: answered by id, or failed because the socket closed.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/**
 * A valid body that JSON escapes to nearly the most bytes it can: visible text needs one visible
 * character, and every other one is a control character, escaped to six bytes (`\u0001`).
 */
const WORST_BODY = `x${'\u0001'.repeat(LIMITS.messageMax - 1)}`;

async function freshClient(onClose?: (code: number) => void) {
  const { token } = await server.fastUser(uniqueName('batcher'));
  return server.chatClient(token, undefined, { onClose }).chat;
}

function sendAll(chat: Awaited<ReturnType<typeof freshClient>>, bodies: string[]) {
  return bodies.map((body) => chat.chat.send.mutate({ roomId: 'general', body }));
}

describe('every call of a batch gets an answer', () => {
  it('answers each call of a batch past maxBatch with its own error', async () => {
    const chat = await freshClient();
    const bodies = Array.from({ length: TRANSPORT_DEFAULTS.maxBatch + 1 }, (_, i) => `call ${i}`);
    const outcomes = await settleWithin(sendAll(chat, bodies));
    expect(tally(outcomes)).toEqual({ PAYLOAD_TOO_LARGE: TRANSPORT_DEFAULTS.maxBatch + 1 });
    expect(outcomes[0]).toMatchObject({
      message: 'Too many calls sent together (51); at most 50 may be batched',
    });
    expect((await chat.chat.send.mutate({ roomId: 'general', body: 'one at a time' })).body).toBe(
      'one at a time',
    );
  });

  it('answers 40 concurrent sends of the longest message (over 64 KiB as one frame)', async () => {
    const chat = await freshClient();
    const bodies = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(LIMITS.messageMax, '.'));
    const outcomes = await settleWithin(sendAll(chat, bodies));
    // The per-user message limit (a burst of 20) refuses the rest, each with its own answer.
    expect(tally(outcomes)).toEqual({ ok: 20, TOO_MANY_REQUESTS: 20 });
  });

  it('reads a full batch of the largest valid input: maxBatch bodies of escaped characters', async () => {
    expect(JSON.stringify(WORST_BODY)).toHaveLength((LIMITS.messageMax - 1) * 6 + 3);
    const closes: number[] = [];
    const chat = await freshClient((code) => closes.push(code));
    const bodies = Array.from({ length: TRANSPORT_DEFAULTS.maxBatch }, () => WORST_BODY);
    const outcomes = await settleWithin(sendAll(chat, bodies));
    // Read and answered call by call: stored, or refused by the per-user message rate limit.
    expect(tally(outcomes)).toEqual({
      ok: 20,
      TOO_MANY_REQUESTS: TRANSPORT_DEFAULTS.maxBatch - 20,
    });
    expect(closes).toEqual([]);
  });

  it('closes the socket (1009) on a frame past the limit, failing its calls, and recovers', async () => {
    const closes: number[] = [];
    const chat = await freshClient((code) => closes.push(code));
    const count = TRANSPORT_DEFAULTS.maxBatch + 10;
    expect(count * JSON.stringify(WORST_BODY).length).toBeGreaterThan(
      maxFrameBytes(TRANSPORT_DEFAULTS.maxBatch),
    );
    const outcomes = await settleWithin(sendAll(chat, Array(count).fill(WORST_BODY)));
    expect(tally(outcomes)).toEqual({ closed: count });
    expect(closes[0]).toBe(CLOSE_FRAME_TOO_LARGE);
    // The client reconnects by itself and later calls go through.
    const page = await chat.chat.history.query({ roomId: 'general', limit: 1 });
    expect(page.messages).toHaveLength(1);
  });
});
