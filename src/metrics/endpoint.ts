import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { bearerToken } from '../trpc/context.js';
import type { ServerMetrics } from './serverMetrics.js';

export const METRICS_PATH = '/metrics';

export interface MetricsSettings {
  /** A port of its own for /metrics (0 picks a free one); unset: not on a port of its own. */
  METRICS_PORT?: number;
  METRICS_HOST: string;
  /** When set, /metrics answers only `Authorization: Bearer <token>`. */
  METRICS_TOKEN?: string;
}

/** Where /metrics is served: nowhere, on the public port (token required), or on its own port. */
export type MetricsExposure = 'off' | 'public' | 'own-port';

export function metricsExposure(settings: MetricsSettings): MetricsExposure {
  if (settings.METRICS_PORT !== undefined) return 'own-port';
  return settings.METRICS_TOKEN ? 'public' : 'off';
}

export interface MetricsEndpoint {
  readonly exposure: MetricsExposure;
  /**
   * For the public server: answers /metrics (served when the exposure is `public`, else 404, so
   * that it never falls through to the web app). False for every other path.
   */
  handlePublic(req: IncomingMessage, res: ServerResponse): boolean;
  /** Starts the port of its own when configured; resolves to the port it listens on, or null. */
  listen(): Promise<number | null>;
  close(): Promise<void>;
}

/**
 * `GET /metrics` in Prometheus text format, never public by default: on a port of its own
 * (METRICS_PORT on METRICS_HOST) and/or behind a bearer token (METRICS_TOKEN, compared in
 * constant time). With neither configured it is not served at all.
 */
export function createMetricsEndpoint(
  settings: MetricsSettings,
  metrics: ServerMetrics,
  log: Logger,
): MetricsEndpoint {
  const exposure = metricsExposure(settings);
  const expected = settings.METRICS_TOKEN ? digest(settings.METRICS_TOKEN) : null;
  let own: Server | null = null;

  const serve = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (expected && !tokenMatches(req.headers.authorization, expected)) {
      sendText(res, 401, 'A bearer token is required for /metrics', {
        'www-authenticate': 'Bearer realm="metrics"',
      });
      return;
    }
    metrics.render().then(
      (body) => sendText(res, 200, body, { 'content-type': metrics.contentType }),
      (error: unknown) => {
        log.error('metrics collection failed', { error });
        sendText(res, 500, 'Metrics could not be collected; see the server log');
      },
    );
  };
  const notHere = (res: ServerResponse) => sendText(res, 404, 'Not found');

  return {
    exposure,
    handlePublic(req, res) {
      if (pathOf(req) !== METRICS_PATH) return false;
      if (exposure === 'public') serve(req, res);
      else notHere(res);
      return true;
    },
    async listen() {
      if (settings.METRICS_PORT === undefined) return null;
      const server = createServer((req, res) => {
        if (pathOf(req) === METRICS_PATH) serve(req, res);
        else notHere(res);
      });
      own = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(settings.METRICS_PORT, settings.METRICS_HOST, () => resolve());
      });
      return (server.address() as AddressInfo).port;
    },
    async close() {
      if (!own) return;
      const server = own;
      own = null;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Hashing both sides makes them the same length, so the comparison leaks nothing of the token. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function tokenMatches(authorization: string | undefined, expected: Buffer): boolean {
  const given = bearerToken(authorization);
  return given !== null && timingSafeEqual(digest(given), expected);
}

function pathOf(req: IncomingMessage): string | undefined {
  return req.url?.split('?')[0];
}

function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}
