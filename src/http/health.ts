import type { IncomingMessage, ServerResponse } from 'node:http';

export interface HealthProbe {
  /** Rejects when a dependency is unreachable or the process is draining. */
  checkReady(): Promise<void>;
}

/** `/healthz`: the process is alive. `/readyz`: it can serve (dependencies reachable). */
export function handleHealth(
  req: IncomingMessage,
  res: ServerResponse,
  probe: HealthProbe,
): boolean {
  const path = req.url?.split('?')[0];
  if (path === '/healthz') {
    sendJson(res, 200, { status: 'ok' });
    return true;
  }
  if (path === '/readyz') {
    probe.checkReady().then(
      () => sendJson(res, 200, { status: 'ready' }),
      (error: unknown) =>
        sendJson(res, 503, {
          status: 'unavailable',
          reason: error instanceof Error ? error.message : String(error),
        }),
    );
    return true;
  }
  return false;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
