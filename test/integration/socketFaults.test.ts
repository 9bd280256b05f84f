import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { maxFrameBytes } from '../../src/chat/transport/wsTransport.js';
import { TRANSPORT_DEFAULTS } from '../../src/limits.js';
import type { Logger } from '../../src/log.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { Waiters } from '../helpers/wait.js';

/**
 * Faults a client commits on its own socket are the client's: the socket closes with the code
 * for the fault, and the server's error log (which pages someone) stays quiet however many come.
 */

const logged: { level: string; message: string }[] = [];
const recorder = (level: string) => (message: string) => {
  logged.push({ level, message });
};
const log: Logger = {
  debug: recorder('debug'),
  info: recorder('info'),
  warn: recorder('warn'),
  error: recorder('error'),
};

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({}, {}, log);
});
afterAll(() => server.stop());

/** Opens a socket, sends one frame and resolves with the code the server closed it with. */
async function closeCodeAfter(send: (ws: WebSocket) => void): Promise<number> {
  const ws = new WebSocket(`${server.wsUrl}?connectionParams=1`);
  const waiters = new Waiters();
  let code: number | null = null;
  ws.on('close', (closed) => {
    code = closed;
    waiters.notify();
  });
  ws.on('error', () => {});
  await new Promise((resolve) => ws.once('open', resolve));
  send(ws);
  await waiters.until(
    () => code !== null,
    () => 'close',
  );
  return code ?? 0;
}

describe('faults on a client’s own socket', () => {
  it('closes with the fault’s code and logs no server error', async () => {
    for (let i = 0; i < 5; i++) {
      const tooLarge = 'z'.repeat(maxFrameBytes(TRANSPORT_DEFAULTS.maxBatch) + 1);
      expect(await closeCodeAfter((ws) => ws.send(tooLarge))).toBe(1009);
      const invalidUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
      expect(await closeCodeAfter((ws) => ws.send(invalidUtf8, { binary: false }))).toBe(1007);
    }
    expect(logged.filter((entry) => entry.level === 'error')).toEqual([]);
  });
});
