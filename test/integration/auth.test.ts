import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/client/index.js';
import { failure } from '../helpers/errors.js';
import { RawSocket } from '../helpers/rawSocket.js';
import {
  PASSWORD,
  startTestServer,
  TEST_SECRET,
  type TestServer,
  uniqueName,
} from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

function tokenFor(
  user: { id: string; username: string },
  secret: string,
  expiresInSeconds: number,
): string {
  return jwt.sign({ name: user.username }, secret, {
    algorithm: 'HS256',
    subject: user.id,
    expiresIn: expiresInSeconds,
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

describe('accounts over HTTP', () => {
  it('signs up, signs in, tells who is signed in and refreshes the token', async () => {
    const api = createApiClient(server.apiUrl);
    const username = uniqueName('Erin');
    const user = await api.auth.signUp.mutate({ username, password: PASSWORD });
    expect(user.username).toBe(username);

    const session = await api.auth.signIn.mutate({
      username: username.toLowerCase(),
      password: PASSWORD,
    });
    expect(session.user).toEqual(user);
    expect(session.chatUrl).toBe(`ws://127.0.0.1:${server.running.port}/ws`);
    expect(session.expiresAt).toBeGreaterThan(Date.now());

    const authed = createApiClient(server.apiUrl, () => session.token);
    expect(await authed.auth.me.query()).toEqual(user);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const renewed = await authed.auth.refresh.mutate();
    expect(renewed.token).not.toBe(session.token);
    expect(renewed.expiresAt).toBeGreaterThan(session.expiresAt);
    expect(await createApiClient(server.apiUrl, () => renewed.token).auth.me.query()).toEqual(user);
  });

  it('rejects a taken username whatever its case, with CONFLICT', async () => {
    const api = createApiClient(server.apiUrl);
    const username = uniqueName('frank');
    await api.auth.signUp.mutate({ username, password: PASSWORD });
    expect(
      await failure(
        api.auth.signUp.mutate({ username: username.toUpperCase(), password: PASSWORD }),
      ),
    ).toEqual({
      code: 'CONFLICT',
      message: `The username "${username.toUpperCase()}" is already taken`,
    });
  });

  it('explains invalid usernames and passwords field by field', async () => {
    const api = createApiClient(server.apiUrl);
    expect(await failure(api.auth.signUp.mutate({ username: 'a b', password: PASSWORD }))).toEqual({
      code: 'BAD_REQUEST',
      message: 'Username may only contain letters, digits, "_", "." and "-"',
    });
    expect(
      await failure(api.auth.signUp.mutate({ username: 'validname', password: 'short' })),
    ).toEqual({
      code: 'BAD_REQUEST',
      message: 'Password must be at least 8 characters',
    });
    expect(
      (await failure(api.auth.signUp.mutate({ username: 'x'.repeat(33), password: PASSWORD })))
        .message,
    ).toBe('Username must be at most 32 characters');
  });

  it('gives an unknown user and a wrong password the same answer in about the same time', async () => {
    const api = createApiClient(server.apiUrl);
    const username = uniqueName('grace');
    await api.auth.signUp.mutate({ username, password: PASSWORD });
    const timed = async (name: string) => {
      const start = performance.now();
      const result = await failure(
        api.auth.signIn.mutate({ username: name, password: 'wrong password' }),
      );
      return { result, ms: performance.now() - start };
    };
    const wrong = [];
    const unknown = [];
    for (let i = 0; i < 5; i++) {
      wrong.push(await timed(username));
      unknown.push(await timed(uniqueName('nobody')));
    }
    expect(wrong[0]?.result).toEqual({
      code: 'UNAUTHORIZED',
      message: 'Wrong username or password',
    });
    expect(unknown[0]?.result).toEqual(wrong[0]?.result);
    // Without the decoy hash an unknown user answers ~100x faster; allow generous noise.
    const ratio = median(unknown.map((t) => t.ms)) / median(wrong.map((t) => t.ms));
    expect(ratio).toBeGreaterThan(0.4);
  });

  it('refuses protected calls without a valid token', async () => {
    const { user } = await server.fastUser(uniqueName('heidi'));
    const cases = {
      missing: null,
      garbage: 'not-a-token',
      wrongSecret: tokenFor(user, 'another-secret-that-is-long-enough-xx', 3600),
      expired: tokenFor(user, TEST_SECRET, -10),
      tampered: `${tokenFor(user, TEST_SECRET, 3600).slice(0, -2)}xx`,
    };
    for (const token of Object.values(cases)) {
      const api = createApiClient(server.apiUrl, () => token);
      expect((await failure(api.auth.me.query())).code).toBe('UNAUTHORIZED');
      expect((await failure(api.rooms.create.mutate({ name: 'sneaky' }))).code).toBe(
        'UNAUTHORIZED',
      );
      expect((await failure(api.auth.refresh.mutate())).code).toBe('UNAUTHORIZED');
    }
    const expired = createApiClient(server.apiUrl, () => cases.expired);
    expect((await failure(expired.auth.me.query())).message).toBe(
      'Your session has expired; sign in again',
    );
    expect((await failure(createApiClient(server.apiUrl).auth.me.query())).message).toBe(
      'Sign in first',
    );
  });
});

describe('chat connections without a valid token', () => {
  it('answers every call and subscription with UNAUTHORIZED and sends no data', async () => {
    const { user } = await server.fastUser(uniqueName('ivan'));
    await server.chat.messages.send(user, {
      roomId: 'general',
      body: 'secret history',
    });
    const tokens = [
      null,
      'garbage',
      tokenFor(user, TEST_SECRET, -10),
      `${tokenFor(user, TEST_SECRET, 3600).slice(0, -2)}xx`,
      tokenFor(user, 'another-secret-that-is-long-enough-xx', 3600),
    ];
    for (const token of tokens) {
      const socket = await RawSocket.open(server.wsUrl, token);
      socket.request(1, 'subscription', 'chat.events', { roomId: 'general' });
      socket.request(2, 'mutation', 'chat.send', { roomId: 'general', body: 'let me in' });
      socket.request(3, 'query', 'chat.history', { roomId: 'general' });
      for (const id of [1, 2, 3]) {
        expect((await socket.response(id)).error?.data.code).toBe('UNAUTHORIZED');
      }
      expect(socket.responses.some((r) => r.result !== undefined)).toBe(false);
      socket.close();
    }
    const history = await server
      .chatClient(tokenFor(user, TEST_SECRET, 3600))
      .chat.chat.history.query({
        roomId: 'general',
      });
    expect(history.messages.map((m) => m.body)).not.toContain('let me in');
  });

  it('closes a connection when its token expires, so the client must re-authenticate', async () => {
    const { user } = await server.fastUser(uniqueName('judy'));
    const socket = await RawSocket.open(server.wsUrl, tokenFor(user, TEST_SECRET, 2));
    socket.request(1, 'subscription', 'chat.events', { roomId: 'general' });
    await socket.response(1);
    await socket.until(() => socket.closed !== null, 'close', 5_000);
    expect(socket.closed?.code).toBe(4001);
  });
});
