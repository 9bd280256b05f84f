import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startServer } from '../../src/server.js';
import { identities, type StartSystem } from './types.js';

export const JWT_SECRET = 'bench-secret-that-is-long-enough-0123456789abcdef';

/**
 * ChatHub as deployed on one node: embedded adapters (SQLite in a temp DATA_DIR, in-process bus
 * and presence). Users are synthetic: tokens are issued directly (sign-up would spend most of
 * the setup in argon2), which is all the chat role ever looks at.
 *
 * With `scaleOut`, one chat server (ROLE=chat) of several: Redis for pub/sub, presence and
 * discovery, MongoDB for storage. Every server signs with the same JWT_SECRET, so a token any
 * of them issues is good on all of them.
 */
export const startChatHub: StartSystem = async ({ receivers, senders, scaleOut }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'chathub-bench-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET,
    JWT_TTL: '2h',
    LOG_LEVEL: 'silent',
    // Every receiver and sender connects from 127.0.0.1.
    WS_MAX_CONNECTIONS_PER_ADDRESS: String(Math.max(1_000, receivers + senders)),
    ...(scaleOut
      ? { ROLE: 'chat', REDIS_URL: scaleOut.redisUrl, MONGO_URL: scaleOut.mongoUrl }
      : {}),
  });
  const running = await startServer(config, createLogger('silent')).catch((error: unknown) => {
    // e.g. Redis or MongoDB unreachable: nothing else will remove the data directory.
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  const tokenFor = (id: string) => running.services.tokens.issue({ id, username: id }).token;
  return {
    endpoint: {
      url: `ws://127.0.0.1:${running.port}/ws`,
      receiverCredentials: identities('bench-r', receivers).map(tokenFor),
      senderCredentials: identities('bench-s', senders).map(tokenFor),
    },
    async close() {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
