import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createMemoryBus } from './bus/memory.js';
import { createRedisBus } from './bus/redis.js';
import type { Config } from './config.js';
import { createRedisDiscovery } from './discovery/redis.js';
import { createStaticDiscovery } from './discovery/static.js';
import type { Logger } from './log.js';
import type { Dependency, ServerMetrics } from './metrics/serverMetrics.js';
import { createMemoryPresence } from './presence/memory.js';
import { createRedisPresence } from './presence/redis.js';
import type { Adapters } from './services.js';
import { openMongoStore } from './storage/mongo.js';
import { openSqliteStore } from './storage/sqlite.js';

/** Names this process among the chat servers sharing Redis. */
export function newServerId(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The storage and messaging for this process: MongoDB when MONGO_URL is set (else the embedded
 * SQLite file), Redis for pub/sub, presence and discovery when REDIS_URL (one Redis) or
 * REDIS_CLUSTER_NODES (a Redis Cluster) is set (else in-process, which is only correct for a
 * single process).
 */
export async function adaptersFor(
  config: Config,
  log: Logger,
  serverId: string,
  metrics: Pick<ServerMetrics, 'dependencyFailed'>,
): Promise<Adapters> {
  const onError = (component: string, dependency: Dependency) => (error: Error) => {
    metrics.dependencyFailed(dependency);
    log.warn(`${component} trouble`, { error });
  };
  const store = config.MONGO_URL
    ? await openMongoStore(config.MONGO_URL, {
        reconnectAfterMs: config.MONGO_RECONNECT_AFTER * 1_000,
        onClientReplaced: (unreachableForMs) =>
          log.warn('replaced the MongoDB client: the database was unreachable through it', {
            unreachableForMs,
          }),
        onReconnectFailed: (error) => {
          metrics.dependencyFailed('store');
          log.warn('a fresh MongoDB client cannot reach the database either', { error });
        },
      })
    : openEmbeddedStore(config.DATA_DIR);
  if (!config.redis) {
    return {
      store,
      bus: createMemoryBus(),
      presence: createMemoryPresence(),
      discovery: createStaticDiscovery(
        config.PUBLIC_URL ?? config.CHAT_URL,
        `localhost:${config.PORT}`,
      ),
    };
  }
  const redis = config.redis;
  return {
    store,
    bus: await createRedisBus(redis, { onError: onError('redis bus', 'bus') }),
    // Nine seconds of life (three missed heartbeats) plus the hub's four-second recount keep a
    // dead server's users in the counts members see for under fifteen seconds.
    presence: await createRedisPresence(redis, {
      serverId,
      ttlMs: 9_000,
      heartbeatMs: 3_000,
      onError: onError('redis presence', 'presence'),
    }),
    discovery: await createRedisDiscovery(redis, {
      onError: onError('redis discovery', 'discovery'),
    }),
  };
}

function openEmbeddedStore(dataDir: string) {
  mkdirSync(dataDir, { recursive: true });
  return openSqliteStore(join(dataDir, 'chathub.db'));
}
