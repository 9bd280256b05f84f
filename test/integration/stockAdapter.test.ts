import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { chatRouter } from '../../src/chat/router.js';
import { createContext } from '../../src/trpc/context.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import { pollUntil } from '../helpers/wait.js';

/**
 * ChatHub serves chat from its own transport for speed, but its router must stay a plain tRPC
 * router: here it runs on tRPC's stock WebSocket adapter and behaves the same.
 */
let server: TestServer;
const httpServer = createServer();
const wss = new WebSocketServer({ server: httpServer });
let url: string;

beforeAll(async () => {
  server = await startTestServer();
  applyWSSHandler({
    wss,
    router: chatRouter,
    createContext: ({ req, info }) =>
      createContext(server.running.services, {
        token: info.connectionParams?.token,
        clientAddress: req.socket.remoteAddress ?? 'unknown',
        requestHost: req.headers.host ?? null,
      }),
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
  await new Promise((resolve) => httpServer.close(resolve));
  await server.stop();
});

it('streams snapshot, messages and votes, and resumes from lastEventId, on the stock adapter', async () => {
  const roomId = (await server.running.services.rooms.create(uniqueName('stock'))).id;
  const alice = await server.fastUser(uniqueName('alice'));
  const early = await server.chat.messages.send(alice.user, { roomId, body: 'before' });
  const { chat } = server.chatClient(alice.token, url);
  const seen: { id: string; type: string }[] = [];
  const subscription = chat.chat.events.subscribe(
    { roomId },
    { onData: ({ id, data }) => seen.push({ id, type: data.type }) },
  );
  await pollUntil(() => seen.some((e) => e.type === 'presence'));
  const message = await chat.chat.send.mutate({ roomId, body: 'after' });
  await chat.chat.vote.mutate({ messageId: early.id, vote: 'up' });
  await pollUntil(() => seen.some((e) => e.type === 'vote'));
  subscription.unsubscribe();
  expect(seen.map((e) => e.type)).toEqual(['snapshot', 'presence', 'message', 'vote']);

  const resumed: string[] = [];
  const again = chat.chat.events.subscribe(
    { roomId, lastEventId: seen[0]?.id },
    { onData: ({ data }) => resumed.push(data.type === 'message' ? data.message.id : data.type) },
  );
  await pollUntil(() => resumed.includes('vote'));
  again.unsubscribe();
  expect(resumed).toEqual([message.id, 'vote', 'presence']);
});
