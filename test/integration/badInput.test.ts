import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { failure } from '../helpers/errors.js';
import { RawSocket } from '../helpers/rawSocket.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';

let server: TestServer;
let token: string;
beforeAll(async () => {
  server = await startTestServer();
  token = (await server.fastUser(uniqueName('tester'))).token;
});
afterAll(() => server.stop());

async function socket(): Promise<RawSocket> {
  return RawSocket.open(server.wsUrl, token);
}

/** Proves the connection still works after whatever the test threw at it. */
async function expectUsable(raw: RawSocket, id: number): Promise<void> {
  raw.request(id, 'query', 'chat.history', { roomId: 'general', limit: 1 });
  expect((await raw.response(id)).result?.type).toBe('data');
}

describe('bad input over WebSocket', () => {
  it('explains invalid message bodies', async () => {
    const raw = await socket();
    raw.request(1, 'mutation', 'chat.send', { roomId: 'general', body: 'x'.repeat(2001) });
    raw.request(2, 'mutation', 'chat.send', { roomId: 'general', body: '   \n  ' });
    raw.request(3, 'mutation', 'chat.send', { roomId: 'general', body: 42 });
    raw.request(4, 'mutation', 'chat.send', { roomId: '../etc', body: 'hi' });
    raw.request(5, 'mutation', 'chat.send', 'not an object');
    const long = await raw.response(1);
    expect(long.error?.data.code).toBe('BAD_REQUEST');
    expect(long.error?.message).toBe('Message must be at most 2000 characters');
    expect(long.error?.data.fieldErrors).toEqual({
      body: ['Message must be at most 2000 characters'],
    });
    expect((await raw.response(2)).error?.message).toBe('Message cannot be empty');
    expect((await raw.response(3)).error?.data.code).toBe('BAD_REQUEST');
    expect((await raw.response(4)).error?.message).toBe(
      'Room id may only contain lowercase letters, digits and "-"',
    );
    expect((await raw.response(5)).error?.data.code).toBe('BAD_REQUEST');
    raw.request(6, 'mutation', 'chat.send', { roomId: 'general', body: 'x'.repeat(2000) });
    expect((await raw.response(6)).result?.type).toBe('data');
    raw.close();
  });

  it('rejects malformed votes and event ids', async () => {
    const raw = await socket();
    raw.request(1, 'mutation', 'chat.vote', { messageId: 'nope', vote: 'up' });
    raw.request(2, 'mutation', 'chat.vote', {
      messageId: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      vote: 'sideways',
    });
    raw.request(3, 'subscription', 'chat.events', { roomId: 'general', lastEventId: 'abc' });
    raw.request(4, 'query', 'chat.history', { roomId: 'general', limit: 1000 });
    expect((await raw.response(1)).error?.message).toBe('Message id must be a 26-character ULID');
    for (const id of [2, 3, 4])
      expect((await raw.response(id)).error?.data.code).toBe('BAD_REQUEST');
    raw.close();
  });

  it('answers unknown procedures and wrong procedure types with NOT_FOUND', async () => {
    const raw = await socket();
    raw.request(1, 'query', 'chat.nope', {});
    raw.request(2, 'query', 'chat.send', { roomId: 'general', body: 'typed as query' });
    raw.request(3, 'mutation', 'auth.signIn', { username: 'x', password: 'y' });
    for (const id of [1, 2, 3]) expect((await raw.response(id)).error?.data.code).toBe('NOT_FOUND');
    await expectUsable(raw, 4);
    raw.close();
  });

  it('answers requests it cannot run by their id, and keeps the connection', async () => {
    const raw = await socket();
    raw.send({ id: 1, method: 'teleport', params: {} });
    expect((await raw.response(1)).error?.data.code).toBe('PARSE_ERROR');
    raw.send({ id: 'two', method: 'query', params: { path: 42 } });
    expect((await raw.response('two')).error?.data.code).toBe('PARSE_ERROR');
    // A body far past the message limit still fits in a frame: the answer says what is wrong.
    raw.request(3, 'mutation', 'chat.send', { roomId: 'general', body: 'y'.repeat(100_000) });
    expect((await raw.response(3)).error?.message).toBe('Message must be at most 2000 characters');
    const batch = Array.from({ length: 51 }, (_, i) => 100 + i);
    raw.send(
      batch.map((id) => ({
        id,
        method: 'query',
        params: { path: 'chat.history', input: { roomId: 'general' } },
      })),
    );
    await raw.until(() => batch.every((id) => raw.responses.some((r) => r.id === id)), 'batch');
    for (const id of batch) {
      expect(raw.responses.find((r) => r.id === id)?.error).toMatchObject({
        message: 'Too many calls sent together (51); at most 50 may be batched',
        data: { code: 'PAYLOAD_TOO_LARGE' },
      });
    }
    await expectUsable(raw, 4);
    raw.close();
  });

  const history = { path: 'chat.history', input: { roomId: 'general' } };
  it.each([
    ['not JSON', '{not json'],
    ['JSON but not a request', '"hello"'],
    ['a request without an id', { method: 'query', params: history }],
    ['a null id', { id: null, method: 'query', params: history }],
    ['an object as id', { id: { nested: 1 }, method: 'query', params: history }],
    ['an id JSON cannot carry back (1e400 reads as Infinity)', '{"id":1e400,"method":"query"}'],
    ['an id longer than 128 characters', { id: 'i'.repeat(129), method: 'query', params: history }],
    ['a batch with one id missing', [{ id: 1, method: 'query', params: history }, {}]],
    ['an empty batch', '[]'],
  ])('closes the connection (1007) on a frame it cannot answer: %s', async (_, frame) => {
    const raw = await socket();
    raw.send(frame);
    await raw.until(() => raw.closed !== null, 'close');
    expect(raw.closed?.code).toBe(1007);
    expect(raw.responses).toEqual([]);
  });

  it('closes a connection whose first frame is not its connection params', async () => {
    const ws = new WebSocket(`${server.wsUrl}?connectionParams=1`);
    const messages: string[] = [];
    ws.on('message', (data) => messages.push(data.toString()));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(
      JSON.stringify({ id: 1, method: 'query', params: { path: 'chat.history', input: {} } }),
    );
    const code = await new Promise<number>((resolve) => ws.once('close', resolve));
    expect(code).toBe(1008);
    expect(JSON.parse(messages[0] ?? '{}')).toMatchObject({
      id: null,
      error: {
        message: 'The first frame must carry connectionParams',
        data: { code: 'PARSE_ERROR' },
      },
    });
    const bystander = await socket();
    await expectUsable(bystander, 1);
    bystander.close();
  });

  it('drops a connection that sends a frame past the hard limit, and nobody else notices', async () => {
    const bystander = await socket();
    const raw = await socket();
    raw.send('z'.repeat(2 * 1024 * 1024));
    await raw.until(() => raw.closed !== null, 'close');
    expect(raw.closed?.code).toBe(1009);
    await expectUsable(bystander, 1);
    bystander.close();
  });

  it('limits a flood of messages per user with TOO_MANY_REQUESTS, without affecting others', async () => {
    const roomId = (await server.running.services.rooms.create(uniqueName('flood'))).id;
    const flooder = server.chatClient((await server.fastUser(uniqueName('flooder'))).token).chat;
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => flooder.chat.send.mutate({ roomId, body: `spam ${i}` })),
    );
    const accepted = results.filter((r) => r.status === 'fulfilled').length;
    const refused = await Promise.all(
      results.flatMap((r) => (r.status === 'rejected' ? [failure(Promise.reject(r.reason))] : [])),
    );
    expect(accepted).toBeGreaterThanOrEqual(20);
    expect(accepted).toBeLessThan(25);
    expect(refused.every((r) => r.code === 'TOO_MANY_REQUESTS')).toBe(true);
    expect(refused[0]?.message).toBe('You are sending messages too fast; slow down');

    const neighbour = server.chatClient((await server.fastUser(uniqueName('calm'))).token).chat;
    await neighbour.chat.send.mutate({ roomId, body: 'still here' });
    const stored = await neighbour.chat.history.query({ roomId, limit: 100 });
    expect(stored.messages).toHaveLength(accepted + 1);
  });

  it('limits requests and subscriptions per connection', async () => {
    const raw = await socket();
    for (let batch = 0; batch < 3; batch++) {
      raw.send(
        Array.from({ length: 50 }, (_, i) => ({
          id: batch * 50 + i,
          method: 'query',
          params: { path: 'chat.history', input: { roomId: 'general', limit: 1 } },
        })),
      );
    }
    await raw.until(() => raw.responses.length >= 150, 'all answers');
    const limited = raw.responses.filter((r) => r.error?.data.code === 'TOO_MANY_REQUESTS');
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]?.error?.message).toBe('Too many requests on this connection');
    raw.close();

    const subscriber = await socket();
    for (let i = 0; i < 33; i++)
      subscriber.request(i, 'subscription', 'chat.events', { roomId: 'general' });
    const last = await subscriber.response(32);
    expect(last.error?.message).toBe('At most 32 subscriptions per connection');
    subscriber.request(0, 'subscription', 'chat.events', { roomId: 'general' });
    await subscriber.until(
      () => subscriber.responses.some((r) => r.error?.message === 'Duplicate id 0'),
      'duplicate',
    );
    subscriber.close();
  });

  it('closes a connection that keeps sending past its refusals (4029), answering at most a burst more', async () => {
    const bystander = await socket();
    const raw = await socket();
    // 40,000 requests in one frame: each refusal costs the server an answer, so they are metered.
    raw.send(`[${Array.from({ length: 40_000 }, (_, i) => `{"id":${i}}`).join(',')}]`);
    await raw.until(() => raw.closed !== null, 'close');
    expect(raw.closed?.code).toBe(4029);
    expect(raw.responses.length).toBe(2 * 100);
    expect(raw.responses.every((r) => r.error?.data.code === 'PAYLOAD_TOO_LARGE')).toBe(true);
    await expectUsable(bystander, 1);
    bystander.close();

    // Requests one by one, past the rate and ignoring TOO_MANY_REQUESTS: the same end.
    const stubborn = await socket();
    for (let i = 0; i < 250; i++) stubborn.request(i, 'query', 'chat.nope', {});
    await stubborn.until(() => stubborn.closed !== null, 'close');
    expect(stubborn.closed?.code).toBe(4029);
    // A burst, as much again refused, and what the rate refilled in the meantime.
    expect(stubborn.responses.length).toBeLessThan(250);
    expect(
      stubborn.responses.some((r) => r.error?.message === 'Too many requests on this connection'),
    ).toBe(true);
  });

  it('is still healthy afterwards', async () => {
    const response = await fetch(`${server.apiUrl}/healthz`);
    expect(response.status).toBe(200);
  });
});
