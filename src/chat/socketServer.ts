import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { clientAddress } from '../http/clientAddress.js';
import type { Logger } from '../log.js';
import type { Services } from '../services.js';
import { createContext } from '../trpc/context.js';
import type { TransportMetrics } from './chatMetrics.js';
import { ConnectionSlots } from './connectionSlots.js';
import { chatRouter } from './router.js';
import { DEFAULT_LIMITS, maxFrameBytes, type TransportLimits } from './transportLimits.js';
import { createWsTransport, type WsTransport } from './wsTransport.js';

export const CHAT_PATH = '/ws';

export interface ChatSocketServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  transport: WsTransport;
  /** Open sockets, authenticated or not. */
  openSockets(): number;
  close(): Promise<void>;
}

export function createChatSocketServer(opts: {
  services: Services;
  log: Logger;
  trustProxy: boolean;
  limits?: Partial<TransportLimits>;
  onConnectionsChanged?(): void;
  metrics?: TransportMetrics;
}): ChatSocketServer {
  const { services, log, trustProxy } = opts;
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const wss = new WebSocketServer({
    noServer: true,
    // Frames past the limit are refused by `ws` before they are read: close 1009.
    maxPayload: maxFrameBytes(limits.maxBatch),
  });
  const addressSlots = new ConnectionSlots(limits.maxConnectionsPerAddress);
  const transport = createWsTransport({
    router: chatRouter,
    createContext: ({ req, connectionParams }) =>
      createContext(services, {
        token: connectionParams?.token,
        clientAddress: clientAddress(req, trustProxy),
        requestHost: req.headers.host ?? null,
      }),
    sessionOf: ({ session }) =>
      session && { userId: session.user.id, expiresAt: session.expiresAt },
    onError(error, { path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') log.error('chat request failed', { path, error });
    },
    limits,
    onConnectionsChanged: opts.onConnectionsChanged,
    metrics: opts.metrics,
  });
  wss.on('connection', (ws, req) => transport.handleConnection(ws, req));

  return {
    transport,
    openSockets: () => wss.clients.size,
    handleUpgrade(req, socket, head) {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== CHAT_PATH) {
        refuse(socket, '404 Not Found', `Chat sockets connect to ${CHAT_PATH}`);
        return;
      }
      // Counted from the upgrade to the socket's end, authenticated or not, so one address
      // cannot hold open more than its share however it behaves.
      const leave = addressSlots.tryTake(clientAddress(req, trustProxy));
      if (!leave) {
        refuse(
          socket,
          '429 Too Many Requests',
          `Too many chat connections from your address (at most ${limits.maxConnectionsPerAddress}); close some and try again`,
        );
        return;
      }
      socket.once('close', leave);
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    },
    close() {
      for (const client of wss.clients) client.terminate();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Answers an upgrade with a plain HTTP error instead of a WebSocket. */
function refuse(socket: Duplex, status: string, message: string): void {
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
  );
}
