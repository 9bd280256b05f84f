import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_ROOM } from '../../src/domain/rooms.js';
import { createLogger } from '../../src/log.js';
import { startServer } from '../../src/server.js';
import type { Services } from '../../src/services.js';
import { identities, type StartSystem } from './types.js';

export const JWT_SECRET = 'bench-secret-that-is-long-enough-0123456789abcdef';
const MAX_CONNECTIONS_FROM_LOOPBACK = 1_000_000;

/** Creates the scenario's rooms; the default room always exists. */
export async function createRooms(services: Services, roomIds: string[]): Promise<void> {
  for (const roomId of roomIds) {
    if (roomId !== DEFAULT_ROOM.id) await services.rooms.create(roomId);
  }
}

/**
 * ChatHub as deployed: embedded adapters (SQLite in DATA_DIR, in-process bus and presence) unless
 * the setup names a Redis or a Redis Cluster (pub/sub, presence and discovery: ROLE=chat) and/or a
 * MongoDB (storage).
 * Users are synthetic: tokens are issued directly (sign-up would spend most of the setup in
 * argon2), which is all the chat role ever looks at. Every process signs with the same
 * JWT_SECRET, so a token any of them issues is good on all of them.
 *
 * A DATA_DIR from the setup is shared by every process of the system (one SQLite file, written
 * only by the process that holds the senders); without one the server gets a temp dir of its own.
 */
export const startChatHub: StartSystem = async ({
  receivers,
  senders,
  roomIds,
  backend,
  dataDir: sharedDir,
}) => {
  const dataDir = sharedDir ?? mkdtempSync(join(tmpdir(), 'chathub-bench-'));
  const removeDataDir = () => {
    if (!sharedDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET,
    JWT_TTL: '2h',
    LOG_LEVEL: 'silent',
    // Every bench client comes from 127.0.0.1: the per-address cap is for the real world.
    WS_MAX_CONNECTIONS_PER_ADDRESS: String(MAX_CONNECTIONS_FROM_LOOPBACK),
    ...(backend.redisUrl ? { ROLE: 'chat', REDIS_URL: backend.redisUrl } : {}),
    ...(backend.redisClusterNodes
      ? { ROLE: 'chat', REDIS_CLUSTER_NODES: backend.redisClusterNodes }
      : {}),
    ...(backend.mongoUrl ? { MONGO_URL: backend.mongoUrl } : {}),
  });
  const running = await startServer(config, createLogger('silent')).catch((error: unknown) => {
    // e.g. Redis or MongoDB unreachable: nothing else will remove the data directory.
    removeDataDir();
    throw error;
  });
  await createRooms(running.services, roomIds);
  const tokenFor = (id: string) => running.services.tokens.issue({ id, username: id }).token;
  return {
    endpoint: {
      url: `ws://127.0.0.1:${running.port}/ws`,
      receiverCredentials: identities('bench-r', receivers).map(tokenFor),
      senderCredentials: identities('bench-s', senders).map(tokenFor),
    },
    async close() {
      await running.stop();
      removeDataDir();
    },
  };
};
