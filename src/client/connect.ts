import { createTRPCClient, type TRPCClient } from '@trpc/client';
import type { inferRouterInputs } from '@trpc/server';
import type { ApiRouter, AppRouter } from '../appRouter.js';
import type { SignInResult } from '../contract/models.js';
import { createApiClient } from './apiClient.js';
import { createChatHubLinks, type WebSocketImplementation } from './links.js';
import { type FollowOptions, followRoom, type RoomFollower } from './roomFollower.js';

export type CredentialsInput = inferRouterInputs<ApiRouter>['auth']['signIn'];

export interface ConnectOptions extends CredentialsInput {
  /** Where the API role listens, e.g. http://localhost:8080. */
  apiUrl: string;
  /** A WebSocket implementation where there is no global one (Node 20: `import { WebSocket } from 'ws'`). */
  WebSocket?: WebSocketImplementation;
  /** Renew the session token before it expires (default true). */
  autoRefresh?: boolean;
  onConnectionChange?(state: 'open' | 'closed'): void;
}

/** What a connection adds to the tRPC client; none of these names is a router namespace. */
export interface ChatHubControls {
  /** The current session; replaced when the token is refreshed. */
  session(): SignInResult;
  /** Follows one room as the signed-in user; closed with the connection. */
  followRoom(roomId: string, options?: Omit<FollowOptions, 'roomId' | 'readerId'>): RoomFollower;
  /** Stops every follower, the token refresh and the chat socket. */
  close(): Promise<void>;
}

/**
 * A signed-in ChatHub: one tRPC client for both roles (`hub.rooms.list.query()` over HTTP,
 * `hub.chat.send.mutate()` over the chat socket), plus the connection's own controls.
 */
export type ChatHubConnection = TRPCClient<AppRouter> & ChatHubControls;

type Assert<T extends true> = T;
// biome-ignore lint/correctness/noUnusedVariables: a compile-time assertion; tsc checks it
type ControlsDoNotShadowRouters = Assert<
  [keyof ChatHubControls & keyof AppRouter['_def']['record']] extends [never] ? true : false
>;

const RETRY_REFRESH_MS = 5_000;

/** Renew when 80% of the token's remaining lifetime has passed. */
function refreshDelay(expiresAt: number): number {
  return Math.max(1_000, (expiresAt - Date.now()) * 0.8);
}

/**
 * Signs in and connects. Chat goes to the server sign-in named, every reconnect asks discovery
 * for a fresh one (steering away from the server just lost), subscriptions resume where they
 * left off, and the token is refreshed before it expires.
 */
export async function connect(options: ConnectOptions): Promise<ChatHubConnection> {
  let session = await createApiClient(options.apiUrl).auth.signIn.mutate({
    username: options.username,
    password: options.password,
  });
  const { links, socket } = createChatHubLinks({
    apiUrl: options.apiUrl,
    token: () => session.token,
    chatUrl: async (lost) =>
      lost ? client.discovery.chatUrl.query({ avoid: lost }) : session.chatUrl,
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    ...(options.onConnectionChange ? { onConnectionChange: options.onConnectionChange } : {}),
  });
  const client = createTRPCClient<AppRouter>({ links });

  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  const scheduleRefresh = (delayMs: number) => {
    refreshTimer = setTimeout(async () => {
      if (session.expiresAt <= Date.now()) return;
      try {
        session = { ...session, ...(await client.auth.refresh.mutate()) };
        scheduleRefresh(refreshDelay(session.expiresAt));
      } catch {
        scheduleRefresh(RETRY_REFRESH_MS);
      }
    }, delayMs);
    (refreshTimer as { unref?: () => void }).unref?.();
  };
  if (options.autoRefresh !== false) scheduleRefresh(refreshDelay(session.expiresAt));

  const followers = new Set<RoomFollower>();
  const controls: ChatHubControls = {
    session: () => session,
    followRoom(roomId, followOptions) {
      const follower = followRoom(client, {
        ...followOptions,
        roomId,
        readerId: session.user.id,
      });
      followers.add(follower);
      return follower;
    },
    async close() {
      clearTimeout(refreshTimer);
      for (const follower of followers) follower.close();
      followers.clear();
      await socket.close();
    },
  };
  return withControls(client, controls);
}

/** The client's router namespaces and the controls on one object, read through a proxy. */
function withControls(client: TRPCClient<AppRouter>, controls: ChatHubControls): ChatHubConnection {
  const hub = new Proxy(controls, {
    get: (target, key, receiver) =>
      key in target ? Reflect.get(target, key, receiver) : Reflect.get(client, key),
  });
  // The proxy answers every router namespace from `client`; TypeScript cannot see through it.
  return hub as ChatHubConnection;
}
