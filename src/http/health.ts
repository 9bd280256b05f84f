import type { IncomingMessage, ServerResponse } from 'node:http';

export interface HealthProbe {
  /** Why the process can no longer do its job and should be restarted, or null while it can. */
  unhealthy(): string | null;
  /** Rejects naming the dependency that does not answer (never its details), or that the process is draining. */
  checkReady(): Promise<void>;
}

/**
 * `/healthz`: liveness, 503 once the process should be restarted (its storage has been
 * unreachable too long). `/readyz`: it can serve now (dependencies reachable, not draining).
 */
export function handleHealth(
  req: IncomingMessage,
  res: ServerResponse,
  probe: HealthProbe,
): boolean {
  const path = req.url?.split('?')[0];
  if (path === '/healthz') {
    const reason = probe.unhealthy();
    if (reason === null) sendJson(res, 200, { status: 'ok' });
    else sendJson(res, 503, { status: 'unhealthy', reason });
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
