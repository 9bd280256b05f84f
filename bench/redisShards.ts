import { Redis } from 'ioredis';
import { slotOf } from '../src/redis/slot.js';
import { ClusterAdmin, type ClusterNodeView } from '../test/helpers/redisCluster.js';
import { channelOf, orderMasters } from './placement.js';

/**
 * The Redis Cluster a bench run is on, seen from outside: its masters and replicas, and each
 * node's own CPU time (INFO cpu), sampled around the measured phase like the servers' CPU.
 */

/** One master and its replicas over a measured phase. */
export interface ShardCpu {
  master: string;
  /** This run's rooms whose channel the master serves. */
  rooms: number;
  masterCpuMicros: number;
  /** Summed over its replicas: sharded pub/sub is relayed to them too. */
  replicaCpuMicros: number;
}

export interface ClusterCpu {
  shards: ShardCpu[];
  /** Wall time between the two samples, ms. */
  wallMs: number;
}

/** CPU time per node address, microseconds, and when it was read. */
export interface CpuSnapshot {
  byNode: Map<string, number>;
  at: number;
}

/** used_cpu_sys + used_cpu_user from an INFO cpu reply (the server's whole process), µs. */
export function infoCpuMicros(info: string): number {
  const field = (name: string) => {
    const value = new RegExp(`^${name}:([0-9.]+)\\s*$`, 'm').exec(info)?.[1];
    if (value === undefined) throw new Error(`INFO cpu has no ${name}`);
    return Number(value);
  };
  return Math.round((field('used_cpu_sys') + field('used_cpu_user')) * 1e6);
}

/** Each master's and its replicas' CPU between two snapshots, masters in their stable order. */
export function shardCpu(
  nodes: readonly ClusterNodeView[],
  before: CpuSnapshot,
  after: CpuSnapshot,
  roomIds: readonly string[],
): ClusterCpu {
  const spent = (address: string) =>
    (after.byNode.get(address) ?? Number.NaN) - (before.byNode.get(address) ?? Number.NaN);
  const slots = roomIds.map((roomId) => slotOf(channelOf(roomId)));
  const masters = orderMasters(nodes.filter((node) => node.role === 'master' && !node.failed));
  return {
    wallMs: after.at - before.at,
    shards: masters.map((master) => {
      const served = new Set(master.slots);
      return {
        master: master.address,
        rooms: slots.filter((slot) => served.has(slot)).length,
        masterCpuMicros: spent(master.address),
        replicaCpuMicros: nodes
          .filter((node) => node.masterId === master.id)
          .reduce((sum, replica) => sum + spent(replica.address), 0),
      };
    }),
  };
}

/** Reads a cluster's topology and every node's CPU time through plain per-node connections. */
export class ClusterProbe {
  private readonly admin: ClusterAdmin;
  private readonly connections = new Map<string, Redis>();

  constructor(seeds: string) {
    this.admin = new ClusterAdmin(seeds);
  }

  nodes(): Promise<ClusterNodeView[]> {
    return this.admin.nodes();
  }

  async cpu(nodes: readonly ClusterNodeView[]): Promise<CpuSnapshot> {
    const samples = await Promise.all(
      nodes.map(async (node) => {
        const info = await this.connection(node.address).info('cpu');
        return [node.address, infoCpuMicros(info)] as const;
      }),
    );
    return { byNode: new Map(samples), at: Date.now() };
  }

  close(): void {
    this.admin.close();
    for (const connection of this.connections.values()) connection.disconnect();
    this.connections.clear();
  }

  private connection(address: string): Redis {
    let connection = this.connections.get(address);
    if (!connection) {
      const at = address.lastIndexOf(':');
      connection = new Redis({
        host: address.slice(0, at),
        port: Number(address.slice(at + 1)),
        maxRetriesPerRequest: 1,
        connectTimeout: 5_000,
        commandTimeout: 5_000,
      });
      connection.on('error', () => {}); // A failed INFO rejects; that is the report.
      this.connections.set(address, connection);
    }
    return connection;
  }
}
