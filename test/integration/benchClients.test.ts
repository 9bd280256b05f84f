import { afterEach, describe, expect, it } from 'vitest';
import { chatHubClient } from '../../bench/clients/chathub.js';
import { chatHubTrpcClient } from '../../bench/clients/chathubTrpc.js';
import { socketIoClient } from '../../bench/clients/socketio.js';
import type { Closable, SystemClient } from '../../bench/clients/types.js';
import { wsClient } from '../../bench/clients/ws.js';
import type { ServerKind } from '../../bench/protocol.js';
import { startChatHub } from '../../bench/servers/chathub.js';
import { startSocketIoBaseline } from '../../bench/servers/socketio.js';
import type { StartSystem, SystemServer } from '../../bench/servers/types.js';
import { startWsBaseline } from '../../bench/servers/ws.js';
import { Waiters } from '../helpers/wait.js';

/**
 * The bench's bare clients against the real servers they measure: each receiver must count
 * exactly the bodies sent into its own room, so the bench's delivery counts mean something.
 */
const cases: [string, ServerKind, StartSystem, SystemClient][] = [
  ['ChatHub, bare tRPC client', 'chathub', startChatHub, chatHubClient({ format: 'single' })],
  ['ChatHub, stock @trpc/client', 'chathub', startChatHub, chatHubTrpcClient],
  ['ws baseline', 'ws', startWsBaseline, wsClient],
  ['Socket.IO baseline', 'socketio', startSocketIoBaseline, socketIoClient],
];

const open: Closable[] = [];
let server: SystemServer | null = null;

afterEach(async () => {
  await Promise.all(open.splice(0).map((each) => each.close()));
  await server?.close();
  server = null;
});

describe.each(cases)('bench client: %s', (_name, kind, start, client) => {
  it('delivers each body to the members of its room only, and acknowledges every send', async () => {
    server = await start({
      kind,
      roomIds: ['general', 'bench-1'],
      receivers: 2,
      senders: 1,
      backend: {},
    });
    const { url, receiverCredentials, senderCredentials } = server.endpoint;
    const waiters = new Waiters();
    const received: string[][] = [[], []];
    const rooms = ['general', 'bench-1'];
    for (const [index, credential] of receiverCredentials.entries()) {
      const receiver = await client.receiver(url, credential, rooms[index] ?? '', {
        onBody(body) {
          received[index]?.push(body);
          waiters.notify();
        },
        onError(error) {
          throw error;
        },
      });
      open.push(receiver);
    }
    const sender = await client.sender(url, senderCredentials[0] ?? '', 'bench-1');
    open.push(sender);

    await sender.send('first');
    await sender.send('second');
    await waiters.until(
      () => received[1]?.length === 2,
      () => `two bodies in bench-1, got ${JSON.stringify(received)}`,
    );
    expect(received).toEqual([[], ['first', 'second']]);
  });
});

describe('bench client: ChatHub, bare tRPC client', () => {
  it('refuses a receiver whose token the server does not accept', async () => {
    server = await startChatHub({
      kind: 'chathub',
      roomIds: ['general'],
      receivers: 0,
      senders: 0,
      backend: {},
    });
    const client = chatHubClient({ format: 'single' });
    await expect(
      client.receiver(server.endpoint.url, 'not-a-token', 'general', {
        onBody() {},
        onError() {},
      }),
    ).rejects.toThrow(/UNAUTHORIZED/);
  });
});
