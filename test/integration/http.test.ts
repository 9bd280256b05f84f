import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApiClient } from '../../src/client/index.js';
import { failure } from '../helpers/errors.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

function upgradeStatus(url: string): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });
}

describe('rooms', () => {
  it('lists general by default and creates rooms with readable ids', async () => {
    const { token } = await server.fastUser(uniqueName('mia'));
    const api = createApiClient(server.apiUrl, () => token);
    expect((await api.rooms.list.query()).rooms[0]).toMatchObject({
      id: 'general',
      name: 'general',
      online: 0,
    });
    const name = `Café Talk ${uniqueName('')}`;
    const room = await api.rooms.create.mutate({ name: `  ${name}  ` });
    expect(room.name).toBe(name);
    expect(room.id).toMatch(/^cafe-talk-[a-z0-9-]+$/);
    expect((await api.rooms.list.query()).rooms.map((r) => r.id)).toContain(room.id);
    expect(await failure(api.rooms.create.mutate({ name: name.toUpperCase() }))).toEqual({
      code: 'CONFLICT',
      message: `A room named "${name.toUpperCase()}" already exists`,
    });
    expect((await failure(api.rooms.create.mutate({ name: '<script>' }))).code).toBe('BAD_REQUEST');
  });
});

describe('the HTTP surface', () => {
  it('serves the web client with security headers and falls back to index.html for app routes', async () => {
    for (const path of ['/', '/rooms/general']) {
      const response = await fetch(`${server.apiUrl}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(await response.text()).toContain('<title>ChatHub</title>');
    }
    expect((await fetch(`${server.apiUrl}/missing.js`)).status).toBe(404);
    expect((await fetch(`${server.apiUrl}/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('reports liveness and readiness', async () => {
    expect(await (await fetch(`${server.apiUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${server.apiUrl}/readyz`)).json()).toEqual({ status: 'ready' });
  });

  it('refuses oversized request bodies', async () => {
    const response = await fetch(`${server.apiUrl}/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'x', password: 'y'.repeat(100_000) }),
    });
    expect(response.status).toBe(413);
  });

  it('upgrades only the chat path', async () => {
    expect(await upgradeStatus(`${server.wsUrl}`)).toBe('open');
    expect(await upgradeStatus(`ws://127.0.0.1:${server.running.port}/elsewhere`)).toBe(404);
  });
});

describe('roles', () => {
  it('ROLE=api serves HTTP tRPC but no chat socket, and builds no room hub', async () => {
    const api = await startTestServer({ ROLE: 'api' });
    try {
      expect((await fetch(`${api.apiUrl}/trpc/rooms.list`)).status).toBe(200);
      expect(await upgradeStatus(api.wsUrl)).toBe(404);
      expect(api.running.services.chat).toBeNull();
    } finally {
      await api.stop();
    }
  });

  it('ROLE=chat serves the chat socket and health, but not the API', async () => {
    const chat = await startTestServer({ ROLE: 'chat' });
    try {
      expect(await upgradeStatus(chat.wsUrl)).toBe('open');
      expect((await fetch(`${chat.apiUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${chat.apiUrl}/readyz`)).status).toBe(200);
      expect((await fetch(`${chat.apiUrl}/trpc/rooms.list`)).status).toBe(404);
    } finally {
      await chat.stop();
    }
  });
});
