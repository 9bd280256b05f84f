import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { LocalServices } from '../test/helpers/localServices.js';
import type { BackendUrls } from './protocol.js';

/**
 * The shared services ChatHub systems run on. Each is started once per bench run, on first use,
 * on a free loopback port (LocalServices: Debian's redis-server, FerretDB from .tools/bin), unless
 * REDIS_URL / MONGO_URL name servers to use. Every run on MongoDB gets a database of its own,
 * dropped afterwards.
 *
 * Adding a backend (issue 13's Redis Cluster, one shard vs three) means: a kind here (say
 * 'cluster-1' / 'cluster-3'), a case in `forRun` that starts it once per run with
 * `LocalServices.redisCluster({ masters })` and returns its `seeds` in a new BackendUrls field,
 * REDIS_CLUSTER_NODES from that field in servers/chathub.ts, and a system per topology in
 * systems.ts (processes: one per core); the scenario (scenarios.ts) then lists those systems.
 */
export type BackendKind = 'embedded' | 'redis' | 'redis+mongo';

export interface BackendRun {
  urls: BackendUrls;
  release(): Promise<void>;
}

export class Backends {
  private readonly local = new LocalServices();
  private redis: Promise<string> | null = null;
  private mongo: Promise<string> | null = null;
  private readonly notes: string[] = [];

  /** Services for one run of a system on `kind`. Throws when they cannot be had. */
  async forRun(kind: BackendKind): Promise<BackendRun> {
    if (kind === 'embedded') return { urls: {}, release: async () => {} };
    const redisUrl = await this.redisUrl();
    if (kind === 'redis') return { urls: { redisUrl }, release: async () => {} };
    const server = await this.mongoUrl();
    const database = `chathub_bench_${randomBytes(4).toString('hex')}`;
    const mongoUrl = withDatabase(server, database);
    return { urls: { redisUrl, mongoUrl }, release: () => dropDatabase(mongoUrl, database) };
  }

  /** Which services this run started (or was given), for the report. */
  describe(): string[] {
    return [...this.notes];
  }

  async stop(): Promise<void> {
    await this.local.stop();
    this.redis = null;
    this.mongo = null;
  }

  killNow(): void {
    this.local.killNow();
  }

  private redisUrl(): Promise<string> {
    this.redis ??= this.start('Redis', process.env.REDIS_URL, () => this.local.redis());
    return this.redis;
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
