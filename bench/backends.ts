import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { LocalServices } from '../test/helpers/localServices.js';
import type { BackendUrls } from './protocol.js';
import { ClusterProbe } from './redisShards.js';

/**
 * The shared services ChatHub systems run on. Each is started once per bench run, on first use,
 * on a free loopback port (LocalServices: Debian's redis-server, a Redis Cluster of them, FerretDB
 * from .tools/bin), unless REDIS_URL / REDIS_CLUSTER_NODES / MONGO_URL name servers to use. Every
 * run on MongoDB gets a database of its own, dropped afterwards.
 *
 * The Redis Cluster has three masters, each with a replica; the cluster systems choose which of
 * them their rooms' channels live on (systems.ts, placement.ts).
 */
export type BackendKind = 'embedded' | 'redis' | 'redis+mongo' | 'cluster' | 'cluster+mongo';

export const CLUSTER_MASTERS = 3;

export interface BackendRun {
  urls: BackendUrls;
  /** On a Redis Cluster: its topology and each node's CPU. */
  cluster: ClusterProbe | null;
  release(): Promise<void>;
}

export class Backends {
  private readonly local = new LocalServices();
  private redis: Promise<string> | null = null;
  private redisCluster: Promise<{ seeds: string; probe: ClusterProbe }> | null = null;
  private mongo: Promise<string> | null = null;
  private readonly notes: string[] = [];

  /** Services for one run of a system on `kind`. Throws when they cannot be had. */
  async forRun(kind: BackendKind): Promise<BackendRun> {
    const nothingToRelease = async () => {};
    if (kind === 'embedded') return { urls: {}, cluster: null, release: nothingToRelease };
    const { urls, cluster } =
      kind === 'cluster' || kind === 'cluster+mongo'
        ? await this.clusterUrls()
        : { urls: { redisUrl: await this.redisUrl() }, cluster: null };
    if (kind === 'redis' || kind === 'cluster') {
      return { urls, cluster, release: nothingToRelease };
    }
    const server = await this.mongoUrl();
    const database = `chathub_bench_${randomBytes(4).toString('hex')}`;
    const mongoUrl = withDatabase(server, database);
    return {
      urls: { ...urls, mongoUrl },
      cluster,
      release: () => dropDatabase(mongoUrl, database),
    };
  }

  /** Which services this run started (or was given), for the report. */
  describe(): string[] {
    return [...this.notes];
  }

  async stop(): Promise<void> {
    const cluster = await this.redisCluster?.catch(() => null);
    cluster?.probe.close();
    await this.local.stop();
    this.redis = null;
    this.redisCluster = null;
    this.mongo = null;
  }

  killNow(): void {
    this.local.killNow();
  }

  private redisUrl(): Promise<string> {
    this.redis ??= this.start('Redis', process.env.REDIS_URL, () => this.local.redis());
    return this.redis;
  }

  private async clusterUrls(): Promise<Pick<BackendRun, 'urls' | 'cluster'>> {
    this.redisCluster ??= this.start('Redis Cluster', process.env.REDIS_CLUSTER_NODES, async () => {
      const cluster = await this.local.redisCluster({ masters: CLUSTER_MASTERS });
      return cluster.seeds;
    }).then((seeds) => ({ seeds, probe: new ClusterProbe(seeds) }));
    const { seeds, probe } = await this.redisCluster;
    return { urls: { redisClusterNodes: seeds }, cluster: probe };
  }

  private mongoUrl(): Promise<string> {
    this.mongo ??= this.start('MongoDB', process.env.MONGO_URL, () => this.local.ferretDb());
    return this.mongo;
  }

  private async start(
    what: string,
    given: string | undefined,
    launch: () => Promise<string>,
  ): Promise<string> {
    const url = given || (await launch());
    const note = `${what} ${url}${given ? '' : ' (started for this run)'}`;
    this.notes.push(note);
    console.log(`   shared services: ${note}`);
    return url;
  }
}

function withDatabase(mongoUrl: string, database: string): string {
  const url = new URL(mongoUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function dropDatabase(mongoUrl: string, database: string): Promise<void> {
  const client = new MongoClient(mongoUrl, {
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
  });
  try {
    await client.connect();
    await client.db(database).dropDatabase({ timeoutMS: 30_000 });
  } catch (error) {
    console.error(`  ! could not drop MongoDB database ${database}: ${String(error)}`);
  } finally {
    await client.close().catch(() => {});
  }
}
