import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLOSE_SESSION_EXPIRED } from '../../src/chat/transport/wsTransport.js';
import { RawSocket } from '../helpers/rawSocket.js';
import { startTestServer, TEST_SECRET, type TestServer, uniqueName } from '../helpers/server.js';

/**
 * A session longer than one `setTimeout` can wait (about 24.8 days) still ends its socket at
 * expiry. The clock is faked (timers and Date) while the sockets stay real; the keep-alive is
 * set to a long interval so the days can be skipped in a few steps, answering its pings.
 */

const DAY_MS = 86_400_000;
const KEEP_ALIVE_MS = 20 * DAY_MS;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(
    {},
    { transportLimits: { pingMs: KEEP_ALIVE_MS, pongWaitMs: KEEP_ALIVE_MS } },
  );
});
afterAll(async () => {
  vi.useRealTimers();
  await server.stop();
});

/** Lets real socket I/O happen (setImmediate is not faked). */
async function ioTurns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('session expiry', () => {
  it('closes a socket at the expiry of a 30-day token', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { user } = await server.fastUser(uniqueName('longlived'));
    const token = jwt.sign({ name: user.username }, TEST_SECRET, {
      algorithm: 'HS256',
      subject: user.id,
      expiresIn: '30d',
    });
    const socket = await RawSocket.open(server.wsUrl, token);
    socket.ws.on('message', (data) => {
      if (data.toString() === 'PING') socket.ws.send('PONG');
    });
    let id = 0;
    /** A round trip: once answered, everything sent before it has reached the server. */
    const roundTrip = async () => {
      socket.request(++id, 'query', 'chat.history', { roomId: 'general', limit: 1 });
      while (!socket.responses.some((r) => r.id === id)) await ioTurns(1);
    };
    await roundTrip();

    vi.advanceTimersByTime(KEEP_ALIVE_MS); // day 20: the server pings; any answer keeps it alive
    await roundTrip();
    expect(socket.closed).toBeNull();
    vi.advanceTimersByTime(30 * DAY_MS - KEEP_ALIVE_MS - 60_000); // a minute before expiry
    await ioTurns(10);
    expect(socket.closed).toBeNull();
    vi.advanceTimersByTime(60_000);
    for (let turn = 0; turn < 1_000 && socket.closed === null; turn++) await ioTurns(1);
    expect(socket.closed?.code).toBe(CLOSE_SESSION_EXPIRED);
    vi.useRealTimers();
  });
});
