import {
  createWSClient,
  httpBatchLink,
  splitLink,
  type TRPCWebSocketClient,
  wsLink,
} from '@trpc/client';
import { createTRPCReact } from '@trpc/react-query';
import type { AppRouter } from '../../appRouter.js';
import { createApiClient } from '../../client/index.js';
import { LIMITS } from '../../contract/limits.js';
import type { SessionStore } from '../session/sessionStore.js';

export const trpc = createTRPCReact<AppRouter>();

export interface Clients {
  trpc: ReturnType<typeof trpc.createClient>;
  socket: TRPCWebSocketClient;
}

/**
 * One tRPC client for the whole app: `chat.*` goes over the chat server's WebSocket, the rest over
 * HTTP to the API. The socket asks discovery for a chat server on every (re)connect and presents
 * the current token, so a refreshed token is used from the next connection on.
 */
export function createClients(sessions: SessionStore): Clients {
  const origin = window.location.origin;
  const api = createApiClient(origin, sessions.token);
  let currentUrl: string | undefined;
  const socket = createWSClient({
    url: async () => {
      currentUrl = await api.discovery.chatUrl.query(
        currentUrl ? { avoid: currentUrl } : undefined,
      );
      return currentUrl;
    },
    connectionParams: () => ({ token: sessions.token() ?? '' }),
    keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
    lazy: { enabled: true, closeMs: 10_000 },
  });
  const client = trpc.createClient({
    links: [
      splitLink({
        condition: (op) => op.path.startsWith('chat.'),
        true: wsLink({ client: socket }),
        false: httpBatchLink({
          url: `${origin}/trpc`,
          // The server refuses larger batches; calls made in one tick are split to fit.
          maxItems: LIMITS.httpBatchMax,
          headers: () => {
            const token = sessions.token();
            return token ? { authorization: `Bearer ${token}` } : {};
          },
        }),
      }),
    ],
  });
  return { trpc: client, socket };
}
