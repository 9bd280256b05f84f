import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer } from 'ws';
import { chatRouter } from '../../src/chat/router.js';
import { CHAT_PATH } from '../../src/chat/socketServer.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startServer } from '../../src/server.js';
import { createContext } from '../../src/trpc/context.js';
import { createRooms, JWT_SECRET } from './chathub.js';
import { identities, type StartSystem } from './types.js';

/** Same cap as ChatHub's own socket server, so only the protocol handling differs. */
const MAX_PAYLOAD = 1024 * 1024;

/**
 * The same ChatHub router and services, served by tRPC's stock `applyWSSHandler` instead of
 * ChatHub's transport: one async iterator per subscription (`RoomFeed` is an AsyncIterable),
 * each event serialized and written per subscriber. ChatHub builds its services as usual (SQLite
 * in a temp DATA_DIR, in-process bus and presence); no client connects to its own transport: the
 * stock adapter gets its own HTTP server. Clients are ChatHub's, unchanged: the
 * wire protocol (connection params first, then JSON-RPC) is the same.
 */
export const startTrpcStock: StartSystem = async ({ receivers, senders, roomIds }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'chathub-bench-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET,
    JWT_TTL: '2h',
    LOG_LEVEL: 'silent',
  });
  const running = await startServer(config, createLogger('silent'));
  const { services } = running;
  await createRooms(services, roomIds);

  const server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, path: CHAT_PATH, maxPayload: MAX_PAYLOAD });
  applyWSSHandler({
    wss,
    router: chatRouter,
    createContext: ({ req, info }) =>
      createContext(services, {
        token: info.connectionParams?.token,
        clientAddress: req.socket.remoteAddress ?? 'unknown',
        requestHost: req.headers.host ?? null,
      }),
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') {
        console.error(`trpc-stock: ${path ?? '(no path)'} failed: ${error.message}`);
      }
    },
    keepAlive: { enabled: true },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const tokenFor = (id: string) => services.tokens.issue({ id, username: id }).token;
  return {
    endpoint: {
      url: `ws://127.0.0.1:${port}${CHAT_PATH}`,
      receiverCredentials: identities('bench-r', receivers).map(tokenFor),
      senderCredentials: identities('bench-s', senders).map(tokenFor),
    },
    async close() {
      // Terminating a socket makes the adapter abort its subscriptions (each RoomFeed leaves).
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
