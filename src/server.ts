import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { adaptersFor, newServerId } from './adapters.js';
import { createApiHandler } from './api/httpHandler.js';
import { type ChatSocketServer, createChatSocketServer } from './chat/socketServer.js';
import type { TransportLimits } from './chat/transportLimits.js';
import type { Config } from './config.js';
import type { ChatServerAnnouncement, ChatServerRegistration } from './discovery/discovery.js';
import { type HealthProbe, handleHealth, sendJson } from './http/health.js';
import type { Logger } from './log.js';
import { createMetricsEndpoint } from './metrics/endpoint.js';
import { ServerMetrics } from './metrics/serverMetrics.js';
import {
  type Adapters,
  createServices,
  type RateLimits,
  rateLimitsFor,
  type Services,
} from './services.js';

/** The built web client (`vite build`), the same path from src/ (tsx) and from dist/. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../dist/web', import.meta.url));

/** How long in-flight chat requests may take to finish when the server drains. */
const DRAIN_TIMEOUT_MS = 5_000;

export interface RunningServer {
  readonly port: number;
  /** Where GET /metrics has a port of its own (METRICS_PORT), or null. */
  readonly metricsPort: number | null;
  readonly server: Server;
  readonly chat: ChatSocketServer | null;
  readonly services: Services;
  /** Drains: not ready, clients told to reconnect elsewhere, connections closed, adapters closed. */
  stop(): Promise<void>;
}

export interface StartOptions {
  adapters?: Adapters;
  webRoot?: string;
  transportLimits?: Partial<TransportLimits>;
  rateLimits?: Partial<RateLimits>;
}

/** Boots the roles the configuration asks for on one HTTP server. */
export async function startServer(
  config: Config,
  log: Logger,
  opts: StartOptions = {},
): Promise<RunningServer> {
  const serverId = newServerId();
  const metrics = new ServerMetrics();
  const adapters = opts.adapters ?? (await adaptersFor(config, log, serverId, metrics));
  const services = await createServices(
    config,
    adapters,
    log,
    { ...rateLimitsFor(config), ...opts.rateLimits },
    metrics,
  );
  const trustProxy = config.TRUST_PROXY;
  let draining = false;
  const probe: HealthProbe = {
    unhealthy: () => services.unhealthy(),
    async checkReady() {
      if (draining) throw new Error('shutting down');
      await services.checkReady();
    },
  };

  if (config.ROLE === 'api' && !config.CHAT_URL && !config.redis) {
    log.warn(
      'ROLE=api without CHAT_URL, REDIS_URL or REDIS_CLUSTER_NODES: sign-in will point clients at this host for chat',
    );
  }
  const serveApi = config.ROLE !== 'chat';
  const api = serveApi
    ? createApiHandler({ services, log, webRoot: opts.webRoot ?? DEFAULT_WEB_ROOT, trustProxy })
    : null;
  const chat =
    config.ROLE !== 'api'
      ? createChatSocketServer({
          services,
          log,
          trustProxy,
          limits: {
            authTimeoutMs: config.WS_AUTH_TIMEOUT * 1000,
            maxConnectionsPerAddress: config.WS_MAX_CONNECTIONS_PER_ADDRESS,
            maxConnectionsPerUser: config.WS_MAX_CONNECTIONS_PER_USER,
            ...opts.transportLimits,
          },
          onConnectionsChanged: () => registration?.loadChanged(),
          metrics,
        })
      : null;
  let registration: ChatServerRegistration | null = null;
  const load = {
    connections: () => chat?.transport.connectionCount() ?? 0,
    // A server that should be restarted sends no one new its way meanwhile.
    available: () => services.unhealthy() === null,
  };
  if (chat) {
    metrics.watchChatServer({
      openSockets: () => chat.openSockets(),
      transport: chat.transport,
      hub: services.hub,
      announcement: load,
    });
  }
  const metricsEndpoint = createMetricsEndpoint(config, metrics, log);

  const server = createServer((req, res) => {
    if (handleHealth(req, res, probe)) return;
    if (metricsEndpoint.handlePublic(req, res)) return;
    if (api) return api(req, res);
    sendJson(res, 404, { error: 'This is a chat server: connect a WebSocket to /ws' });
  });
  server.on('upgrade', (req, socket, head) => {
    if (chat) chat.handleUpgrade(req, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  // First, so that a metrics port that cannot be had fails the start before anything is announced.
  const metricsPort = await metricsEndpoint.listen();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const announcement: ChatServerAnnouncement = {
    serverId,
    publicUrl: publicUrlOf(config, port),
    ...load,
  };
  registration = chat ? await services.discovery.register(announcement) : null;
  log.info('listening', {
    role: config.ROLE,
    port,
    host: config.HOST,
    serverId,
    metrics: metricsEndpoint.exposure,
    metricsPort,
  });

  return {
    port,
    metricsPort,
    server,
    chat,
    services,
    async stop() {
      draining = true;
      // Without Redis the registration cannot be removed; it goes stale within seconds anyway,
      // and the clients here still deserve a drain.
      await registration?.deregister().catch((error: unknown) =>
        log.warn('could not leave discovery; it stops handing this server out shortly', {
          error,
        }),
      );
      server.close();
      await chat?.transport.drain(DRAIN_TIMEOUT_MS);
      await chat?.close();
      server.closeAllConnections();
      await services.close();
      await metricsEndpoint.close();
    },
  };
}

/** Where clients reach this chat server's WebSocket. */
function publicUrlOf(config: Config, port: number): string {
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? hostname() : config.HOST;
  return config.PUBLIC_URL ?? `ws://${host}:${port}/ws`;
}
