import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { LIMITS } from '../contract/limits.js';
import { clientAddress } from '../http/clientAddress.js';
import { setSecurityHeaders } from '../http/securityHeaders.js';
import { createStaticHandler } from '../http/staticFiles.js';
import { HTTP_LIMITS } from '../limits.js';
import type { Logger } from '../log.js';
import type { Services } from '../services.js';
import { bearerToken, createContext } from '../trpc/context.js';
import { apiRouter } from './router.js';

export interface ApiHandlerOptions {
  services: Services;
  log: Logger;
  webRoot: string;
  trustProxy: boolean;
}

/** The API role's HTTP surface: tRPC under /trpc, the web client everywhere else. */
export function createApiHandler({ services, log, webRoot, trustProxy }: ApiHandlerOptions) {
  const trpc = createHTTPHandler({
    router: apiRouter,
    basePath: '/trpc/',
    maxBodySize: HTTP_LIMITS.maxBodyBytes,
    // One request may not multiply into unbounded work: larger batches are refused whole.
    maxBatchSize: LIMITS.httpBatchMax,
    createContext: ({ req }) =>
      createContext(services, {
        token: bearerToken(req.headers.authorization),
        clientAddress: clientAddress(req, trustProxy),
        requestHost: req.headers.host ?? null,
      }),
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') log.error('api request failed', { path, error });
    },
  });
  const staticFiles = createStaticHandler(webRoot);

  return (req: IncomingMessage, res: ServerResponse): void => {
    setSecurityHeaders(res);
    if (req.url?.startsWith('/trpc/')) {
      res.setHeader('cache-control', 'no-store');
      trpc(req, res);
      return;
    }
    staticFiles(req, res).catch((error: unknown) => {
      log.error('static file failed', { error });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
}
