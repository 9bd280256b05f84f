import { availableParallelism } from 'node:os';
import type { BackendKind } from './backends.js';
import type { ClientKind, ServerKind } from './protocol.js';

/**
 * Every system the bench can measure: which server runs, how its clients talk to it, what shared
 * services it needs and how many chat processes it has. A new variant (a wire mode, a backend
 * such as a Redis Cluster) is one entry here plus, if new, its backend in backends.ts.
 */
export interface SystemSpec {
  /** What the reader sees in the legend. */
  label: string;
  server: ServerKind;
  client: ClientKind;
  backend: BackendKind;
  /** Chat server processes: receivers alternate between them, every sender is on the first. */
  processes: number;
  /** Centrifugo: GOMAXPROCS (absent: every core). */
  maxProcs?: number;
  /**
   * ChatHub on several processes and one SQLite file (a DATA_DIR they share). Only the first
   * process writes (it holds every sender); the others read the log only to fill gaps.
   */
  sharedDataDir?: boolean;
  /** On a Redis Cluster: how many of its masters serve the channels of the run's rooms. */
  roomShards?: number;
}

/** The cluster systems run one chat process per core. */
const CHAT_PROCESSES = availableParallelism();

const clusterSystem = (store: 'sqlite' | 'mongo', roomShards: 1 | 3): SystemSpec => ({
  label:
    `ChatHub, ${CHAT_PROCESSES} ROLE=chat processes (one per core) on a Redis Cluster (3 masters, ` +
    `3 replicas), every room's channel on ${roomShards === 1 ? 'one master' : 'the 3 masters, evenly'}, ` +
    (store === 'sqlite'
      ? 'one SQLite file (senders on the first)'
      : 'MongoDB (FerretDB), senders on the first'),
  server: 'chathub',
  client: 'chathub',
  backend: store === 'sqlite' ? 'cluster' : 'cluster+mongo',
  processes: CHAT_PROCESSES,
  ...(store === 'sqlite' ? { sharedDataDir: true } : {}),
  roomShards,
});

export const SYSTEM_NAMES = [
  'chathub',
  'chathub-batched',
  'chathub-trpc-client',
  'chathub-redis-sqlite',
  'chathub-redis-mongo',
  'chathub-2proc',
  'chathub-2proc-mongo',
  'chathub-cluster-1shard',
  'chathub-cluster-3shards',
  'chathub-cluster-mongo-1shard',
  'chathub-cluster-mongo-3shards',
  'centrifugo',
  'centrifugo-2core',
  'ws',
  'socketio',
  'trpc-stock',
] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

export const SYSTEMS: Record<SystemName, SystemSpec> = {
  chathub: {
    label: 'ChatHub, embedded (SQLite, in-process bus and presence), one process',
    server: 'chathub',
    client: 'chathub',
    backend: 'embedded',
    processes: 1,
  },
  'chathub-batched': {
    label: 'ChatHub, embedded, one process, batched wire mode (a frame per turn, messages by line)',
    server: 'chathub',
    client: 'chathub-batched',
    backend: 'embedded',
    processes: 1,
  },
  'chathub-trpc-client': {
    label: 'ChatHub, embedded, clients on the stock @trpc/client (the others: bare ws)',
    server: 'chathub',
    client: 'chathub-trpc-client',
    backend: 'embedded',
    processes: 1,
  },
  'chathub-redis-sqlite': {
    label: 'ChatHub, ROLE=chat on Redis (bus, presence, discovery) + embedded SQLite, one process',
    server: 'chathub',
    client: 'chathub',
    backend: 'redis',
    processes: 1,
  },
  'chathub-redis-mongo': {
    label: 'ChatHub, ROLE=chat on Redis + MongoDB (FerretDB), one process',
    server: 'chathub',
    client: 'chathub',
    backend: 'redis+mongo',
    processes: 1,
  },
  'chathub-2proc': {
    label: 'ChatHub, two ROLE=chat processes on Redis + one SQLite file (senders on the first)',
    server: 'chathub',
    client: 'chathub',
    backend: 'redis',
    processes: 2,
    sharedDataDir: true,
  },
  'chathub-2proc-mongo': {
    label: 'ChatHub, two ROLE=chat processes on Redis + MongoDB (FerretDB), senders on the first',
    server: 'chathub',
    client: 'chathub',
    backend: 'redis+mongo',
    processes: 2,
  },
  'chathub-cluster-1shard': clusterSystem('sqlite', 1),
  'chathub-cluster-3shards': clusterSystem('sqlite', 3),
  'chathub-cluster-mongo-1shard': clusterSystem('mongo', 1),
  'chathub-cluster-mongo-3shards': clusterSystem('mongo', 3),
  centrifugo: {
    label: 'Centrifugo v6.9.1, memory engine, history + recovery, GOMAXPROCS=1',
    server: 'centrifugo',
    client: 'centrifugo',
    backend: 'embedded',
    processes: 1,
    maxProcs: 1,
  },
  'centrifugo-2core': {
    label: 'Centrifugo v6.9.1, same, GOMAXPROCS unset (both cores)',
    server: 'centrifugo',
    client: 'centrifugo',
    backend: 'embedded',
    processes: 1,
  },
  ws: {
    label: 'bare ws server broadcasting one pre-serialized buffer (the floor)',
    server: 'ws',
    client: 'ws',
    backend: 'embedded',
    processes: 1,
  },
  socketio: {
    label: 'Socket.IO 4 room, in-memory adapter, WebSocket transport',
    server: 'socketio',
    client: 'socketio',
    backend: 'embedded',
    processes: 1,
  },
  'trpc-stock': {
    label: "ChatHub's router behind tRPC's stock applyWSSHandler",
    server: 'trpc-stock',
    client: 'chathub',
    backend: 'embedded',
    processes: 1,
  },
};

export const usesCentrifugo = (name: SystemName) => SYSTEMS[name].server === 'centrifugo';
export const isChatHubServer = (name: SystemName) => SYSTEMS[name].server === 'chathub';
export const onRedisCluster = (name: SystemName) => SYSTEMS[name].roomShards !== undefined;
