import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { SLOT_COUNT, slotOf } from './slot.js';

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Where ChatHub's Redis lives: one server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisNode[] };

export interface RedisConnectionOptions {
  /** Names every connection (CLIENT LIST), e.g. `chathub-presence-<serverId>`. */
  name: string;
  /** Connection trouble; connections report it here and heal on their own. */
  onError: (error: Error) => void;
  /** A command without a reply after this long rejects (half-open connections). Default 5000. */
  commandTimeoutMs?: number;
  /** Lua commands, defined on every node (ioredis `scripts`). */
  scripts?: Record<string, { lua: string; numberOfKeys: number }>;
}

export type RedisClient = Redis | Cluster;

/** A cluster node's connection errors are reported at most this often each. */
const NODE_ERROR_INTERVAL_MS = 5_000;

/** Reconnect soon after a drop, then every 2 s at most, for as long as it takes. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, 2_000);

/**
 * The one way ChatHub connects to Redis, the same for one server and for a cluster: connections
 * fail fast while Redis is unreachable (no offline queue, no replays: a replayed write could land
 * twice), time commands out, reconnect on their own and report trouble to `onError`.
 *
 * On a cluster, `client` is ioredis' cluster client (it follows MOVED/ASK redirects and failovers),
 * and the node helpers below let callers work per node: group keys into one pipeline per node,
 * and open a dedicated connection to the node that serves a sharded channel.
 */
export class RedisConnection {
  private constructor(
    readonly client: RedisClient,
    private readonly target: RedisTarget,
    private readonly options: RedisConnectionOptions,
  ) {}

  /** Connects; `who` names the caller in the error when Redis cannot be reached. */
  static async open(
    target: RedisTarget,
    options: RedisConnectionOptions,
    who: string,
  ): Promise<RedisConnection> {
    const client =
      target.kind === 'single' ? single(target.url, options) : cluster(target, options);
    client.on('error', (error: Error) => options.onError(error));
    try {
      await client.connect();
      if (client instanceof Cluster) await connectMasters(client);
    } catch (error) {
      client.disconnect();
      throw new Error(`${who}: cannot connect to ${describeTarget(target)}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    return new RedisConnection(client, target, options);
  }

  get isCluster(): boolean {
    return this.target.kind === 'cluster';
  }

  /**
   * The node serving `key` (or a sharded channel) as far as this client knows: `host:port` on a
   * cluster, the URL on one server. Null while a cluster slot has no known master.
   */
  nodeOf(key: string): string | null {
    if (!(this.client instanceof Cluster)) return this.singleNode();
    return this.client.slots[slotOf(key)]?.[0] ?? null;
  }

  /**
   * Splits `items` into groups whose keys one node serves, so each group can go out as one
   * pipeline (a cluster pipeline must stay on one node). One server: one group.
   */
  groupByNode<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
    const { client } = this;
    if (!(client instanceof Cluster)) return items.length > 0 ? [[...items]] : [];
    const groups = new Map<string, T[]>();
    for (const item of items) {
      const slot = slotOf(keyOf(item));
      // A slot's whole node list (master and replicas) is what ioredis requires a pipeline to share.
      const nodes = client.slots[slot]?.join(';') ?? `unknown:${slot}`;
      const group = groups.get(nodes);
      if (group) group.push(item);
      else groups.set(nodes, [item]);
    }
    return [...groups.values()];
  }

  /**
   * A connection of its own to one node (as named by {@link nodeOf}), with the same options as
   * every other: for sharded subscribers, which must talk to the node that serves their channel.
   */
  dedicated(node: string, name: string): Redis {
    const options = { ...this.options, name };
    if (this.target.kind === 'single') return single(this.target.url, options);
    const at = node.lastIndexOf(':');
    return new Redis({
      ...nodeOptions(options),
      host: node.slice(0, at),
      port: Number(node.slice(at + 1)),
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: reconnectDelay,
    });
  }

  /** Re-reads which node serves which slot (a cluster after a failover or a move). */
  refreshTopology(): Promise<void> {
    const { client } = this;
    if (!(client instanceof Cluster)) return Promise.resolve();
    return new Promise((resolve) => {
      client.refreshSlotsCache((error) => {
        if (error) this.options.onError(error);
        resolve();
      });
    });
  }

  /**
   * Resolves when Redis can serve every key: the server answers, or on a cluster, every slot has
   * a master and every master answers. Rejects with what is missing otherwise.
   */
  async ping(): Promise<void> {
    const { client } = this;
    if (!(client instanceof Cluster)) {
      await client.ping();
      return;
    }
    if (client.status !== 'ready') throw new Error(`Redis Cluster is ${client.status}`);
    const masters = new Set<string>();
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const master = client.slots[slot]?.[0];
      if (!master) throw new Error(`Redis Cluster slot ${slot} has no known master`);
      masters.add(master);
    }
    const connected = new Map(client.nodes('master').map((node) => [nodeKey(node), node]));
    try {
      await Promise.all(
        [...masters].map(async (master) => {
          const node = connected.get(master);
          if (!node) throw new Error(`Redis Cluster master ${master} is unreachable`);
          try {
            await node.ping();
          } catch (error) {
            throw new Error(`Redis Cluster master ${master}: ${messageOf(error)}`, {
              cause: error,
            });
          }
        }),
      );
    } catch (error) {
      // A master that is gone may have been replaced: look again, so the next ping sees it.
      void this.refreshTopology();
      throw error;
    }
  }

  /** QUIT politely; if Redis is unreachable, just drop the sockets. */
  async quit(): Promise<void> {
    await quit(this.client);
  }

  private singleNode(): string {
    return this.target.kind === 'single' ? this.target.url : '';
  }
}

/** Passes on the first error of each `key`, then at most one per `intervalMs` for that key. */
export function oncePerInterval(
  intervalMs: number,
  report: (error: Error) => void,
): (key: string, error: Error) => void {
  const last = new Map<string, number>();
  return (key, error) => {
    const now = Date.now();
    const previous = last.get(key);
    if (previous !== undefined && now - previous < intervalMs) return;
    last.set(key, now);
    report(error);
  };
}

/** QUIT politely; if Redis is unreachable, just drop the socket. */
export async function quit(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function single(url: string, options: RedisConnectionOptions): Redis {
  return new Redis(url, {
    ...nodeOptions(options),
    lazyConnect: true,
    enableOfflineQueue: false,
    retryStrategy: reconnectDelay,
    scripts: options.scripts,
  });
}

function cluster(
  target: { nodes: readonly RedisNode[] },
  options: RedisConnectionOptions,
): Cluster {
  const client = new Cluster(
    target.nodes.map(({ host, port }) => ({ host, port })),
    {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelay,
      // A command to a failed master is retried on the slot's new master (after a failover) up to
      // maxRedirections (16) times this far apart, then fails: about 3 s, then UnavailableError.
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      // Slot moves and failovers are also noticed without a MOVED reply, this often.
      slotsRefreshInterval: 2_000,
      scripts: options.scripts,
      redisOptions: nodeOptions(options),
    },
  );
  // During a failover ioredis tries the dead master many times a second: say so once a while.
  const report = oncePerInterval(NODE_ERROR_INTERVAL_MS, options.onError);
  client.on('node error', (error: Error, node: string) =>
    report(node, new Error(`Redis Cluster node ${node}: ${error.message}`, { cause: error })),
  );
  return client;
}

/** What every connection to a node shares, on one server and in a cluster. */
function nodeOptions(options: RedisConnectionOptions) {
  return {
    connectionName: options.name,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    // In-flight commands are rejected when the connection drops rather than replayed.
    maxRetriesPerRequest: 0,
    // Subscribers re-subscribe themselves: their own map of what they need is the truth.
    autoResubscribe: false,
  } satisfies RedisOptions;
}

/**
 * ioredis connects to a cluster node on its first command and, without an offline queue, bounces
 * the commands that follow while it connects, retrying them later: out of order. So the masters
 * are connected before the first command, and so is every master that joins later (a promoted
 * replica). (Only once the cluster is ready: connecting pool nodes while the cluster client
 * itself connects can stall it.)
 */
async function connectMasters(client: Cluster): Promise<void> {
  // Pool connections queue commands while they connect, so a PING waits for each master.
  await Promise.all(client.nodes('master').map((node) => node.ping()));
  client.on('+node', (node: Redis) => {
    if (client.status !== 'ready' || node.options.readOnly || node.status !== 'wait') return;
    node.connect().catch(() => {}); // 'node error' reports it.
  });
}

function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

function describeTarget(target: RedisTarget): string {
  return target.kind === 'single'
    ? 'Redis'
    : `the Redis Cluster (${target.nodes.map(({ host, port }) => `${host}:${port}`).join(',')})`;
}
