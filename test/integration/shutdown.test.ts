import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../helpers/process.js';
import { RawSocket } from '../helpers/rawSocket.js';
import { startTestServer, TEST_SECRET } from '../helpers/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'chathub-shutdown-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('draining for shutdown', () => {
  it('refuses new requests with SERVICE_UNAVAILABLE and asks clients to reconnect elsewhere', async () => {
    const server = await startTestServer();
    try {
      const { token } = await server.fastUser('drainer');
      const raw = await RawSocket.open(server.wsUrl, token);
      raw.request(1, 'query', 'chat.history', { roomId: 'general' });
      await raw.response(1);
      await server.running.chat?.transport.drain(1_000);
      await raw.until(() => raw.responses.some((r) => 'method' in r), 'reconnect notice');
      expect(raw.responses.find((r) => 'method' in r)).toEqual({ id: null, method: 'reconnect' });
      raw.request(2, 'mutation', 'chat.send', { roomId: 'general', body: 'too late' });
      expect((await raw.response(2)).error).toMatchObject({
        message: 'This chat server is restarting; your client will reconnect to another',
        data: { code: 'SERVICE_UNAVAILABLE' },
      });
    } finally {
      await server.stop();
    }
  });

  it('exits 0 within 10 seconds of SIGTERM, telling connected clients to reconnect', async () => {
    const child = await spawnServer({ DATA_DIR: dataDir, JWT_SECRET: TEST_SECRET });
    const raw = await RawSocket.open(`ws://127.0.0.1:${child.port}/ws`, null);
    const started = Date.now();
    const exit = child.stop('SIGTERM');
    await raw.until(() => raw.responses.some((r) => 'method' in r), 'reconnect notice');
    expect(await exit).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(child.log()).toContain('"message":"shutting down"');
  });

  it('exits 0 on SIGTERM in the API role too', async () => {
    const child = await spawnServer({ DATA_DIR: dataDir, JWT_SECRET: TEST_SECRET, ROLE: 'api' });
    const ready = await fetch(`http://127.0.0.1:${child.port}/readyz`);
    expect(ready.status).toBe(200);
    const started = Date.now();
    expect(await child.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
