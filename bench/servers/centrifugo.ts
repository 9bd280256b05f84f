import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { freePort } from '../../test/helpers/ports.js';
import { identities, type StartSystem } from './types.js';

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

/**
 * Centrifugo as in /work/shared/bench/centrifugo.md: memory engine, client-side subscribe and
 * publish, history + recovery (so its guarantees compare with ChatHub's log + resume), loopback
 * only, usage statistics off. Publishing is also allowed for connected clients that are not
 * subscribed, so senders need not be room members (see clients/centrifugo.ts). The health
 * endpoint only tells the bench when it listens.
 */
function configFor(port: number, secret: string) {
  return {
    http_server: { address: '127.0.0.1', port },
    log: { level: 'error' },
    engine: { type: 'memory' },
    client: { token: { hmac_secret_key: secret } },
    channel: {
      without_namespace: {
        allow_subscribe_for_client: true,
        allow_publish_for_subscriber: true,
        allow_publish_for_client: true,
        history_size: 1000,
        history_ttl: '300s',
        force_recovery: true,
      },
    },
    health: { enabled: true },
    usage_stats: { disabled: true },
  };
}

async function waitUntilHealthy(port: number, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const failure = exited();
    if (failure) throw new Error(failure);
    const healthy = await fetch(`http://127.0.0.1:${port}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Centrifugo did not answer /health within ${READY_TIMEOUT_MS} ms`);
}

/** Spawns the Centrifugo binary with a fresh config and HMAC secret; tokens are HS256 (sub, exp). */
export const startCentrifugo: StartSystem = async ({ receivers, senders, maxProcs, binary }) => {
  if (!binary) throw new Error('no Centrifugo binary given');
  const dir = mkdtempSync(join(tmpdir(), 'chathub-bench-centrifugo-'));
  const secret = randomBytes(32).toString('hex');
  const port = await freePort();
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configFor(port, secret)), {
    mode: 0o600,
  });
  const { GOMAXPROCS: _ignored, ...env } = process.env;
  const child = spawn(binary, ['--config', 'config.json'], {
    cwd: dir,
    env: maxProcs ? { ...env, GOMAXPROCS: String(maxProcs) } : env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let failure: string | null = null;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  child.once('error', (error) => {
    failure = `Centrifugo could not start: ${error.message}`;
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      failure ??= `Centrifugo exited (${signal ?? code}): ${stderr.trim()}`;
      resolve();
    }),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilHealthy(port, () => failure);
  } catch (error) {
    await stop();
    throw error;
  }
  const tokenFor = (sub: string) =>
    jwt.sign({ sub }, secret, { algorithm: 'HS256', expiresIn: '2h' });
  return {
    endpoint: {
      url: `ws://127.0.0.1:${port}/connection/websocket`,
      receiverCredentials: identities('bench-r', receivers).map(tokenFor),
      senderCredentials: identities('bench-s', senders).map(tokenFor),
    },
    pid: child.pid,
    close: stop,
  };
};
