import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { clientAddress } from '../http/clientAddress.js';
import type { Logger } from '../log.js';
import type { Services } from '../services.js';
import { createContext } from '../trpc/context.js';
import { chatRouter } from './router.js';
import { createWsTransport, type TransportLimits, type WsTransport } from './wsTransport.js';

export const CHAT_PATH = '/ws';
/** Frames past this are refused by `ws` itself (close 1009); the transport's own, lower limit answers with a tRPC error first. */
const HARD_MAX_PAYLOAD = 1024 * 1024;

export interface ChatSocketServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  transport: WsTransport;
  close(): Promise<void>;
}

export function createChatSocketServer(opts: {
  services: Services;
  log: Logger;
  trustProxy: boolean;
  limits?: Partial<TransportLimits>;
  onConnectionsChanged?(): void;
}): ChatSocketServer {
  const { services, log, trustProxy } = opts;
  const wss = new WebSocketServer({ noServer: true, maxPayload: HARD_MAX_PAYLOAD });
  const transport = createWsTransport({
    router: chatRouter,
    createContext: ({ req, connectionParams }) =>
      createContext(services, {
        token: connectionParams?.token,
        clientAddress: clientAddress(req, trustProxy),
        requestHost: req.headers.host ?? null,
      }),
    expiresAt: (ctx) => ctx.session?.expiresAt ?? null,
    onError(error, { path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') log.error('chat request failed', { path, error });
    },
    limits: opts.limits,
    onConnectionsChanged: opts.onConnectionsChanged,
  });
  wss.on('connection', (ws, req) => transport.handleConnection(ws, req));

  return {
    transport,
    handleUpgrade(req, socket, head) {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== CHAT_PATH) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    close() {
      for (const client of wss.clients) client.terminate();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}
