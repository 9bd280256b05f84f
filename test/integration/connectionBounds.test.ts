import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  CLOSE_NOT_AUTHENTICATED,
  CLOSE_TOO_MANY_CONNECTIONS,
} from '../../src/chat/transport/wsTransport.js';
import { failure } from '../helpers/errors.js';
import { RawSocket } from '../helpers/rawSocket.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import { pollUntil, Waiters } from '../helpers/wait.js';

/**
 * Sockets are bounded before and after they authenticate: a deadline to present a valid session,
 * a cap per client address (at the upgrade) and per user, and only authenticated ones are load.
 */

const PER_ADDRESS = 3;
const PER_USER = 2;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    TRUST_PROXY: 'true',
    WS_AUTH_TIMEOUT: '1s',
    WS_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
    WS_MAX_CONNECTIONS_PER_USER: String(PER_USER),
  });
});
afterAll(() => server.stop());

let nextAddress = 1;
/** Every test speaks from its own client address (the server trusts X-Forwarded-For here). */
function newAddress(): string {
  return `198.51.100.${nextAddress++}`;
}

/** A bare socket that answers the server's PINGs, as a live but silent client would. */
class SilentSocket {
  closed: number | null = null;
  private readonly waiters = new Waiters();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      if (data.toString() === 'PING') ws.send('PONG');
    });
    ws.on('close', (code) => {
      this.closed = code;
      this.waiters.notify();
    });
  }

  /** Opens a socket from `address`; resolves with the socket, or the HTTP status refusing it. */
  static open(address: string): Promise<SilentSocket | number> {
    const ws = new WebSocket(`${server.wsUrl}?connectionParams=1`, {
      headers: { 'X-Forwarded-For': address },
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new SilentSocket(ws)));
      ws.once('unexpected-response', (_, response) => resolve(response.statusCode ?? 0));
      ws.once('error', reject);
    });
  }

  async closedWith(timeoutMs = 10_000): Promise<number | null> {
    await this.waiters.until(
      () => this.closed !== null,
      () => 'close',
      timeoutMs,
    );
    return this.closed;
  }
}

async function silent(address = newAddress()): Promise<SilentSocket> {
  const socket = await SilentSocket.open(address);
  if (typeof socket === 'number') throw new Error(`refused with ${socket}`);
  return socket;
}

describe('before a socket authenticates', () => {
  it('closes sockets with no valid session at the deadline, and keeps signed-in ones', async () => {
    const { token } = await server.fastUser(uniqueName('member'));
    const member = await RawSocket.open(server.wsUrl, token);
    const quiet = await silent();
    const impostor = await RawSocket.open(server.wsUrl, 'not-a-token');
    impostor.request(1, 'query', 'chat.history', { roomId: 'general' });
    expect((await impostor.response(1)).error?.data.code).toBe('UNAUTHORIZED');

    expect(await quiet.closedWith()).toBe(CLOSE_NOT_AUTHENTICATED);
    await impostor.until(() => impostor.closed !== null, 'close', 10_000);
    expect(impostor.closed?.code).toBe(CLOSE_NOT_AUTHENTICATED);
    // Past the deadline, the signed-in socket is still open and answering.
    member.request(1, 'query', 'chat.history', { roomId: 'general', limit: 1 });
    expect((await member.response(1)).result?.type).toBe('data');
    expect(member.closed).toBeNull();
    member.close();
  });

  it('counts only authenticated connections as this server’s load', async () => {
    const transport = server.running.chat?.transport;
    // Earlier tests' sockets close on the server a moment after they close here.
    await pollUntil(() => transport?.connectionCount() === 0);
    const anonymous = await Promise.all([silent(), silent()]);
    const { token } = await server.fastUser(uniqueName('counted'));
    const member = await RawSocket.open(server.wsUrl, token);
    await pollUntil(() => transport?.connectionCount() === 1);
    expect(transport?.connectionCount()).toBe(1);
    member.close();
    for (const socket of anonymous) socket.ws.close();
    await pollUntil(() => transport?.connectionCount() === 0);
    expect(transport?.connectionCount()).toBe(0);
  });

  it('refuses connections past the cap for one client address with HTTP 429', async () => {
    const crowded = newAddress();
    const open = await Promise.all(Array.from({ length: PER_ADDRESS }, () => silent(crowded)));
    expect(await SilentSocket.open(crowded)).toBe(429);
    // Other addresses are not affected, and a freed slot can be used again.
    await silent();
    open[0]?.ws.close();
    await open[0]?.closedWith();
    // The server frees the slot when its side of the socket closes, a moment after ours.
    expect(
      await eventually(async () => (await SilentSocket.open(crowded)) instanceof SilentSocket),
    ).toBe(true);
  });
});

describe('connections per user', () => {
  it('tells a connection past the cap why its calls fail, then closes it with 4030', async () => {
    const { token } = await server.fastUser(uniqueName('tabs'));
    const tabs = Array.from({ length: PER_USER }, () => server.chatClient(token));
    for (const tab of tabs) await tab.chat.chat.history.query({ roomId: 'general', limit: 1 });

    const closes: number[] = [];
    const extra = server.chatClient(token, undefined, { onClose: (code) => closes.push(code) });
    expect(await failure(extra.chat.chat.history.query({ roomId: 'general', limit: 1 }))).toEqual({
      code: 'TOO_MANY_REQUESTS',
      message: `This account already has ${PER_USER} chat connections open here; close one (another tab or device) and try again`,
    });
    await pollUntil(() => closes.length > 0, 10_000);
    expect(closes[0]).toBe(CLOSE_TOO_MANY_CONNECTIONS);

    // Once a tab closes, the extra one gets in on one of its reconnects.
    await tabs[0]?.socket.close();
    expect(
      await eventually(async () => {
        await extra.chat.chat.history.query({ roomId: 'general', limit: 1 });
        return true;
      }),
    ).toBe(true);
  });
});

/** Retries `attempt` until it returns true (a failed attempt counts as false), for up to 10 s. */
async function eventually(attempt: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await attempt().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
