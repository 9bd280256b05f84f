import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import type { RedisTarget } from '../../src/redis/connection.js';
import { SLOT_COUNT, slotOf } from '../../src/redis/slot.js';

/**
 * Looks at and operates a Redis Cluster the way an operator would, for the cluster tests: who
 * serves a key, failing a master over, moving a slot. Talks to each node directly (plain
 * connections, no cluster client), so it sees every node's own view.
 */

export interface ClusterNodeView {
  id: string;
  /** `host:port` clients use. */
  address: string;
  port: number;
  role: 'master' | 'replica';
  /** For a replica, the id of its master. */
  masterId: string | null;
  failed: boolean;
  /** Slots this node serves (masters). */
  slots: number[];
}

/** How a LocalRedisCluster ends a node; absent for a cluster the tests do not own. */
type Kill = (port: number) => Promise<void>;

const POLL_MS = 50;

export class ClusterAdmin {
  private readonly seeds: string[];
  private readonly connections = new Map<string, Redis>();

  constructor(
    seeds: string,
    private readonly killNode: Kill | null = null,
  ) {
    this.seeds = seeds.split(',').map((seed) => seed.trim());
  }

  /** Every node's view of the cluster, from the first node that answers. */
  async nodes(): Promise<ClusterNodeView[]> {
    let lastError: unknown = null;
    for (const address of this.knownAddresses()) {
      try {
        return parseClusterNodes(await this.call(address, 'CLUSTER', 'NODES'));
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`no cluster node answers: ${String(lastError)}`);
  }

  async masters(): Promise<ClusterNodeView[]> {
    return (await this.nodes()).filter((node) => node.role === 'master' && !node.failed);
  }

  /** The master that serves this key's (or sharded channel's) slot now. */
  async masterOf(key: string): Promise<ClusterNodeView> {
    const slot = slotOf(key);
    const owner = (await this.masters()).find((node) => node.slots.includes(slot));
    if (!owner) throw new Error(`no master serves slot ${slot}`);
    return owner;
  }

  /**
   * Waits until `expectedNodes` nodes are up, each reports cluster_state:ok and the same owner for
   * every slot, no slot is half-migrated, and every replica's link to its master is up and synced.
   */
  async waitHealthy(expectedNodes: number, timeoutMs = 30_000): Promise<void> {
    let problem = 'not checked yet';
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      problem = (await this.healthProblem(expectedNodes).catch(String)) ?? '';
      if (!problem) return;
      await sleep(POLL_MS);
    }
    throw new Error(`Redis Cluster not healthy within ${timeoutMs} ms: ${problem}`);
  }

  /**
   * SIGKILLs the master on `port` (a crashed host) and waits until one of its replicas has taken
   * over its slots in every surviving node's view and the cluster is ok again. Resolves with the
   * promoted node.
   */
  async killMaster(port: number, timeoutMs = 30_000): Promise<ClusterNodeView> {
    if (!this.killNode) throw new Error('this cluster was not started by the tests');
    const before = await this.nodes();
    const victim = before.find((node) => node.port === port && node.role === 'master');
    if (!victim) throw new Error(`no master listens on ${port}`);
    const replicaIds = new Set(
      before.filter((node) => node.masterId === victim.id).map((node) => node.id),
    );
    await this.killNode(port);
    this.drop(victim.address);
    const survivors = before.filter((node) => node.id !== victim.id && !node.failed);
    const deadline = Date.now() + timeoutMs;
    let problem = '';
    while (Date.now() < deadline) {
      problem = await this.promotionProblem(survivors, victim, replicaIds).catch(String);
      if (!problem) {
        const promoted = (await this.masters()).find((node) => replicaIds.has(node.id));
        if (promoted) return promoted;
      }
      await sleep(POLL_MS);
    }
    throw new Error(`no replica of ${victim.address} took over within ${timeoutMs} ms: ${problem}`);
  }

  /**
   * Moves one slot, keys and all, to the master at `to` while clients keep using it, as
   * `redis-cli --cluster reshard` does: IMPORTING on the target, MIGRATING on the source, MIGRATE
   * the keys in batches, then SETSLOT NODE on the target, the source and every other master.
   * Resolves once every master agrees on the new owner.
   */
  async moveSlot(slot: number, to: string, timeoutMs = 30_000): Promise<void> {
    const masters = await this.masters();
    const source = masters.find((node) => node.slots.includes(slot));
    const target = masters.find((node) => node.address === to);
    if (!source || !target) throw new Error(`cannot move slot ${slot} to ${to}`);
    if (source.id === target.id) return;
    await this.call(target.address, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
    await this.call(source.address, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);
    const [host, port] = splitAddress(target.address);
    for (;;) {
      const keys = (await this.call(source.address, 'CLUSTER', 'GETKEYSINSLOT', slot, 100)) as
        | string[]
        | null;
      if (!keys || keys.length === 0) break;
      await this.call(
        source.address,
        'MIGRATE',
        host,
        port,
        '',
        0,
        5_000,
        'REPLACE',
        'KEYS',
        ...keys,
      );
    }
    const others = masters.filter((node) => node.id !== source.id && node.id !== target.id);
    for (const node of [target, source, ...others]) {
      await this.call(node.address, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const views = await Promise.all(
        masters.map(async (node) =>
          parseClusterNodes(await this.call(node.address, 'CLUSTER', 'NODES')),
        ),
      );
      const agreed = views.every((view) =>
        view.some((node) => node.id === target.id && node.slots.includes(slot)),
      );
      if (agreed) return;
      await sleep(POLL_MS);
    }
    throw new Error(
      `the masters did not agree that ${to} serves slot ${slot} within ${timeoutMs} ms`,
    );
  }

  close(): void {
    for (const connection of this.connections.values()) connection.disconnect();
    this.connections.clear();
  }

  private async healthProblem(expectedNodes: number): Promise<string | null> {
    const nodes = await this.nodes();
    if (nodes.length !== expectedNodes) return `${nodes.length} of ${expectedNodes} nodes known`;
    const owners: string[] = [];
    for (const node of nodes) {
      const info = String(await this.call(node.address, 'CLUSTER', 'INFO'));
      if (!info.includes('cluster_state:ok')) return `${node.address} is not ok`;
      const view = parseClusterNodes(await this.call(node.address, 'CLUSTER', 'NODES'));
      if (view.length !== expectedNodes || view.some((other) => other.failed)) {
        return `${node.address} does not see every node healthy`;
      }
      owners.push(slotOwners(view));
      if (node.role === 'replica') {
        const replication = String(await this.call(node.address, 'INFO', 'replication'));
        if (!replication.includes('master_link_status:up')) return `${node.address} not linked`;
        if (!replication.includes('master_sync_in_progress:0')) return `${node.address} syncing`;
      }
    }
    if (new Set(owners).size !== 1) return 'the nodes disagree about slot owners';
    if (owners[0]?.split(',').includes('-')) return 'some slots have no master';
    return null;
  }

  private async promotionProblem(
    survivors: ClusterNodeView[],
    victim: ClusterNodeView,
    replicaIds: Set<string>,
  ): Promise<string> {
    for (const node of survivors) {
      const info = String(await this.call(node.address, 'CLUSTER', 'INFO'));
      if (!info.includes('cluster_state:ok')) return `${node.address} is not ok`;
      const view = parseClusterNodes(await this.call(node.address, 'CLUSTER', 'NODES'));
      const heir = view.find((other) => replicaIds.has(other.id) && other.role === 'master');
      if (!heir || !victim.slots.every((slot) => heir.slots.includes(slot))) {
        return `${node.address} has not seen a replica take over`;
      }
    }
    return '';
  }

  private knownAddresses(): string[] {
    return [...new Set([...this.connections.keys(), ...this.seeds])];
  }

  private async call(address: string, command: string, ...args: (string | number)[]) {
    return this.connection(address).call(command, ...args);
  }

  private connection(address: string): Redis {
    let connection = this.connections.get(address);
    if (!connection) {
      const [host, port] = splitAddress(address);
      // Fails at once when the node is down: a dead node must not stall the caller.
      connection = new Redis({
        host,
        port,
        enableOfflineQueue: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: 2_000,
        commandTimeout: 5_000,
      });
      connection.on('error', () => {});
      connection.once('end', () => {
        if (this.connections.get(address) === connection) this.connections.delete(address);
      });
      this.connections.set(address, connection);
    }
    return connection;
  }

  private drop(address: string): void {
    this.connections.get(address)?.disconnect();
    this.connections.delete(address);
  }
}

/** Parses CLUSTER NODES: `<id> <ip:port@bus> <flags> <master> … <link> <slots…>`. */
export function parseClusterNodes(reply: unknown): ClusterNodeView[] {
  return String(reply)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', endpoint = '', flags = '', master = '', , , , , ...slotFields] =
        line.split(' ');
      const address = endpoint.split('@')[0] ?? '';
      const flagSet = new Set(flags.split(','));
      const slots: number[] = [];
      for (const field of slotFields) {
        if (field.startsWith('[')) continue; // A slot being imported or migrated.
        const [from, to = from] = field.split('-').map(Number);
        if (from === undefined || to === undefined) continue;
        for (let slot = from; slot <= to; slot++) slots.push(slot);
      }
      return {
        id,
        address,
        port: Number(address.split(':').at(-1)),
        role: flagSet.has('master') ? 'master' : 'replica',
        masterId: master === '-' ? null : master,
        failed: flagSet.has('fail') || flagSet.has('fail?') || flagSet.has('noaddr'),
        slots,
      } satisfies ClusterNodeView;
    });
}

/** One line per node view, comparable across nodes: which id serves each slot range. */
function slotOwners(view: ClusterNodeView[]): string {
  const owner = new Array<string>(SLOT_COUNT).fill('-');
  for (const node of view) for (const slot of node.slots) owner[slot] = node.id;
  return owner.join(',');
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Redis ChatHub reaches through REDIS_URL. */
export function singleRedis(url: string): RedisTarget {
  return { kind: 'single', url };
}

/** The Redis Cluster ChatHub reaches through REDIS_CLUSTER_NODES, read as the server reads it. */
export function redisCluster(seeds: string): RedisTarget {
  const target = loadConfig({ REDIS_CLUSTER_NODES: seeds }).redis;
  if (!target) throw new Error(`not a seed list: ${seeds}`);
  return target;
}
