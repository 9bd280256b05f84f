import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTRPCClient,
  createWSClient,
  type TRPCClient,
  type TRPCWebSocketClient,
  wsLink,
} from '@trpc/client';
import { WebSocket } from 'ws';
import type { ChatRouter } from '../../src/chat/router.js';
import { type ChatHubConnection, connect, createApiClient } from '../../src/client/index.js';
import { loadConfig } from '../../src/config.js';
import type { PublicUser } from '../../src/contract/models.js';
import { createLogger, type Logger } from '../../src/log.js';
import { type RunningServer, type StartOptions, startServer } from '../../src/server.js';
import type { ChatServices } from '../../src/services.js';

export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789';
export const PASSWORD = 'correct horse battery';

/** Node 20 has no global WebSocket; the clients take the `ws` implementation. */
export const NodeWebSocket = WebSocket;

export interface TestServer {
  running: RunningServer;
  /** The chat role's services (test servers run ROLE=all unless told otherwise). */
  chat: ChatServices;
  apiUrl: string;
  wsUrl: string;
  dataDir: string;
  /** Signs a new user up over HTTP and connects both typed clients. */
  user(name: string): Promise<ChatHubConnection>;
  /** Creates a user in-process and returns a token: for tests needing many users quickly. */
  fastUser(name: string): Promise<{ user: PublicUser; token: string }>;
  /** A typed chat client authenticated by `token`, with its socket exposed for fault injection. */
  chatClient(
    token: string,
    url?: string,
    opts?: ChatClientOptions,
  ): { chat: TRPCClient<ChatRouter>; socket: TRPCWebSocketClient };
  stop(): Promise<void>;
}

export interface ChatClientOptions {
  /** Told the close code each time the server (or the network) closes the client's socket. */
  onClose?(code: number): void;
  /** A subclass of `ws`, e.g. one that keeps its sockets for a test to pause. */
  WebSocket?: new (
    url: string,
  ) => InstanceType<typeof NodeWebSocket>;
}

let counter = 0;
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}${process.pid % 1000}x${counter}`;
}

export async function startTestServer(
  env: Record<string, string> = {},
  opts: StartOptions = {},
  log: Logger = createLogger('silent'),
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chathub-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const running = await startServer(config, log, opts);
  const apiUrl = `http://127.0.0.1:${running.port}`;
  const connections: ChatHubConnection[] = [];
  const sockets: TRPCWebSocketClient[] = [];
  return {
    running,
    get chat() {
      if (!running.services.chat)
        throw new Error(`a ROLE=${config.ROLE} server has no chat services`);
      return running.services.chat;
    },
    apiUrl,
    wsUrl: `ws://127.0.0.1:${running.port}/ws`,
    dataDir,
    async user(name) {
      const connection = await signUpAndConnect(apiUrl, name);
      connections.push(connection);
      return connection;
    },
    async fastUser(name) {
      const user = await running.services.auth.signUp({ username: name, password: PASSWORD });
      return { user, token: running.services.tokens.issue(user).token };
    },
    chatClient(token, url = `ws://127.0.0.1:${running.port}/ws`, opts = {}) {
      const socket = createWSClient({
        url,
        connectionParams: { token },
        WebSocket: (opts.WebSocket ?? NodeWebSocket) as unknown as typeof globalThis.WebSocket,
        retryDelayMs: () => 50,
        onClose: (cause) => opts.onClose?.(cause?.code ?? 0),
      });
      sockets.push(socket);
      return {
        chat: createTRPCClient<ChatRouter>({ links: [wsLink({ client: socket })] }),
        socket,
      };
    },
    async stop() {
      await Promise.allSettled(connections.map((connection) => connection.close()));
      await Promise.allSettled(sockets.map((socket) => socket.close()));
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs `username` up over HTTP with {@link PASSWORD} and connects both typed clients. */
export async function signUpAndConnect(
  apiUrl: string,
  username: string,
): Promise<ChatHubConnection> {
  await createApiClient(apiUrl).auth.signUp.mutate({ username, password: PASSWORD });
  return connect({ apiUrl, username, password: PASSWORD, WebSocket: NodeWebSocket });
}
