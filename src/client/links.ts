import {
  createWSClient,
  httpBatchLink,
  splitLink,
  type TRPCLink,
  type TRPCWebSocketClient,
  wsLink,
} from '@trpc/client';
import type { AppRouter } from '../appRouter.js';
import { LIMITS } from '../contract/limits.js';
import { bearerHeaders, type TokenSource, trpcUrl } from './apiClient.js';
import { backoffDelay } from './backoff.js';
import { batchedWebSocket, type WebSocketImplementation } from './batchedSocket.js';

export type { WebSocketImplementation } from './batchedSocket.js';

export interface ChatHubLinkOptions {
  /** Where the API role listens, e.g. http://localhost:8080. */
  apiUrl: string;
  token: TokenSource;
  /**
   * The chat server to connect to, asked on every (re)connect: `lost` is the one just used (to
   * steer away from it), null the first time.
   */
  chatUrl(lost: string | null): Promise<string>;
  /** A WebSocket implementation where there is no global one (Node 20: `ws`). */
  WebSocket?: WebSocketImplementation;
  /** Close the socket after 10 s without subscriptions or requests; reopen on demand. */
  lazy?: boolean;
  /**
   * `batched` (the default) asks the chat server for its batched wire mode: what it has for this
   * client in one event-loop turn arrives as one frame, split back into tRPC messages here.
   * `stock` speaks exactly what the stock wsLink does, one message per frame.
   */
  wire?: 'batched' | 'stock';
  onConnectionChange?(state: 'open' | 'closed'): void;
}

export interface ChatHubLinks {
  links: TRPCLink<AppRouter>[];
  /** The chat socket, e.g. to watch its state or close it. */
  socket: TRPCWebSocketClient;
}

/**
 * Links for one tRPC client of both roles: `chat.*` over the chat server's WebSocket, the rest
 * over HTTP to the API. The socket presents the current token and reconnects with the same
 * bounded, jittered backoff as room followers; the tRPC client then resends every subscription
 * with the last event id it saw.
 */
export function createChatHubLinks(options: ChatHubLinkOptions): ChatHubLinks {
  let current: string | null = null;
  const Platform: WebSocketImplementation | undefined =
    options.WebSocket ?? globalThis.WebSocket ?? undefined;
  const socket = createWSClient({
    url: async () => {
      current = await options.chatUrl(current);
      return current;
    },
    connectionParams: () => ({ token: options.token() ?? '' }),
    // tRPC types this as the DOM constructor; `ws` and the batched wrapper implement everything
    // the client uses.
    WebSocket: (Platform && options.wire !== 'stock' ? batchedWebSocket(Platform) : Platform) as
      | typeof globalThis.WebSocket
      | undefined,
    retryDelayMs: (attempt) => backoffDelay(attempt),
    keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
    lazy: { enabled: options.lazy ?? false, closeMs: 10_000 },
    onOpen: () => options.onConnectionChange?.('open'),
    onClose: () => options.onConnectionChange?.('closed'),
  });
  const links: TRPCLink<AppRouter>[] = [
    splitLink({
      condition: (op) => op.path.startsWith('chat.'),
      true: wsLink({ client: socket }),
      false: httpBatchLink({
        url: trpcUrl(options.apiUrl),
        // The server refuses larger batches; calls made in one tick are split to fit.
        maxItems: LIMITS.httpBatchMax,
        headers: bearerHeaders(options.token),
      }),
    }),
  ];
  return { links, socket };
}
