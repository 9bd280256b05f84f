import {
  createTRPCClient,
  createWSClient,
  httpLink,
  type TRPCClient,
  type TRPCWebSocketClient,
  wsLink,
} from '@trpc/client';
import type { ApiRouter } from '../api/router.js';
import type { ChatRouter } from '../chat/router.js';
import type { SignInResult } from '../contract/models.js';
import type { CredentialsInput } from '../contract/schemas.js';

export type ApiClient = TRPCClient<ApiRouter>;
export type ChatClient = TRPCClient<ChatRouter>;

/** A token source read on every request, so refreshed tokens are picked up. */
export type TokenSource = () => string | null;

/** Typed client of the API role (HTTP): auth, rooms, discovery. */
export function createApiClient(apiUrl: string, token: TokenSource = () => null): ApiClient {
  return createTRPCClient<ApiRouter>({
    links: [
      httpLink({
        url: `${apiUrl.replace(/\/$/, '')}/trpc`,
        headers: () => {
          const current = token();
          return current ? { authorization: `Bearer ${current}` } : {};
        },
      }),
    ],
  });
}

/** Any WebSocket constructor: the platform's global one, or `ws`'s class on Node 20. */
export type WebSocketImplementation = new (url: string, protocols?: string | string[]) => unknown;

export interface ConnectOptions extends CredentialsInput {
  /** Where the API role listens, e.g. http://localhost:8080. */
  apiUrl: string;
  /** A WebSocket implementation where there is no global one (Node 20: `import { WebSocket } from 'ws'`). */
  WebSocket?: WebSocketImplementation;
  /** Renew the session token before it expires (default true). */
  autoRefresh?: boolean;
  onConnectionChange?(state: 'open' | 'closed'): void;
}

export interface ChatHubConnection {
  api: ApiClient;
  chat: ChatClient;
  /** The current session; replaced when the token is refreshed. */
  session(): SignInResult;
  close(): Promise<void>;
}

const RETRY_REFRESH_MS = 5_000;

/** Renew when 80% of the token's remaining lifetime has passed. */
function refreshDelay(expiresAt: number): number {
  return Math.max(1_000, (expiresAt - Date.now()) * 0.8);
}

/**
 * Signs in and returns typed clients for both roles. The chat client connects to the server that
 * sign-in named, asks discovery for a fresh one on every reconnect, and resumes subscriptions
 * where they left off.
 */
export async function connect(options: ConnectOptions): Promise<ChatHubConnection> {
  let session: SignInResult | null = null;
  const api = createApiClient(options.apiUrl, () => session?.token ?? null);
  session = await api.auth.signIn.mutate({
    username: options.username,
    password: options.password,
  });

  let currentUrl: string | null = null;
  const ws: TRPCWebSocketClient = createWSClient({
    url: async () => {
      // The first connection goes where sign-in said; every reconnect asks discovery again,
      // steering away from the server just lost.
      currentUrl = currentUrl
        ? await api.discovery.chatUrl.query({ avoid: currentUrl })
        : (session?.chatUrl ?? '');
      return currentUrl;
    },
    connectionParams: () => ({ token: session?.token ?? '' }),
    // tRPC types this as the DOM constructor; `ws` implements everything the client uses.
    WebSocket: options.WebSocket as typeof globalThis.WebSocket | undefined,
    keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
    onOpen: () => options.onConnectionChange?.('open'),
    onClose: () => options.onConnectionChange?.('closed'),
  });
  const chat = createTRPCClient<ChatRouter>({ links: [wsLink({ client: ws })] });

  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  const scheduleRefresh = (delayMs: number) => {
    refreshTimer = setTimeout(async () => {
      if (!session || session.expiresAt <= Date.now()) return;
      try {
        const renewed = await api.auth.refresh.mutate();
        session = { ...session, ...renewed };
        scheduleRefresh(refreshDelay(session.expiresAt));
      } catch {
        scheduleRefresh(RETRY_REFRESH_MS);
      }
    }, delayMs);
    (refreshTimer as { unref?: () => void }).unref?.();
  };
  if (options.autoRefresh !== false) scheduleRefresh(refreshDelay(session.expiresAt));

  return {
    api,
    chat,
    session: () => {
      if (!session) throw new Error('not signed in');
      return session;
    },
    async close() {
      clearTimeout(refreshTimer);
      await ws.close();
    },
  };
}
