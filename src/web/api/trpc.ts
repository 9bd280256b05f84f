import type { TRPCWebSocketClient } from '@trpc/client';
import { createTRPCReact } from '@trpc/react-query';
import type { AppRouter } from '../../appRouter.js';
import { createApiClient } from '../../client/apiClient.js';
import { createChatHubLinks } from '../../client/links.js';
import type { SessionStore } from '../session/sessionStore.js';

export const trpc = createTRPCReact<AppRouter>();

export interface Clients {
  trpc: ReturnType<typeof trpc.createClient>;
  socket: TRPCWebSocketClient;
}

/**
 * One tRPC client for the whole app, on the same links as chathub-client's `connect()`:
 * `chat.*` over the chat server's WebSocket, the rest over HTTP to the API. The socket asks
 * discovery for a chat server on every (re)connect, closes while unused, and presents the
 * current token, so a refreshed token is used from the next connection on.
 */
export function createClients(sessions: SessionStore): Clients {
  const apiUrl = window.location.origin;
  const api = createApiClient(apiUrl, sessions.token);
  const { links, socket } = createChatHubLinks({
    apiUrl,
    token: sessions.token,
    chatUrl: (lost) => api.discovery.chatUrl.query(lost ? { avoid: lost } : undefined),
    lazy: true,
  });
  return { trpc: trpc.createClient({ links }), socket };
}
