import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { ClusterAdmin } from './redisCluster.js';

/**
 * A redis-server, a Redis Cluster and a FerretDB (MongoDB wire protocol over SQLite in a temp
 * directory) on free loopback ports, for the integration suites (test/setup/services.ts) and the
 * scale-out benchmark (bench/scaleout.ts). They come from scripts/provision.sh: redis-server and
 * redis-cli on the PATH, FerretDB built into .tools/bin.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FERRETDB = join(ROOT, '.tools/bin/ferretdb');

/** How long stop() waits for a SIGTERMed server before it SIGKILLs it. */
const STOP_GRACE_MS = 10_000;

/** One server started by {@link LocalServices}, for tests that make it fail. */
export interface LocalServer {
  readonly url: string;
  /** Sends a signal to the running server (SIGSTOP pauses it, SIGCONT resumes it). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILLs the server and resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (FerretDB on the same files); resolves once it listens. */
  restart(): Promise<void>;
}

const run = promisify(execFile);

/** A Redis Cluster of local redis-server processes (see {@link LocalServices.redisCluster}). */
export interface LocalRedisCluster {
  /** The seed list ChatHub takes as REDIS_CLUSTER_NODES: `127.0.0.1:p1,…,127.0.0.1:p6`. */
  readonly seeds: string;
  /** SIGKILLs the node listening on this port, like a host that crashes; resolves once it is gone. */
  kill(port: number): Promise<void>;
}

export interface RedisClusterOptions {
  /** Masters; each gets one replica. Default 3. */
  masters?: number;
  /**
   * How long a node may be silent before the others fail it over (cluster-node-timeout). Short, so
   * a failover takes seconds; default 2000 (a loaded machine must not fail a healthy node over).
   */
  nodeTimeoutMs?: number;
}

/** The servers one owner started, and their scratch directories; stop() ends them all. */
export class LocalServices {
  private readonly started: ChildProcess[] = [];
  private readonly scratch: string[] = [];

  /** Starts a redis-server without persistence; resolves with its URL once it listens. */
  async redis(): Promise<string> {
    return (await this.redisServer()).url;
  }

  /** Starts a FerretDB on SQLite files in a fresh temp directory; resolves with its URL. */
  async ferretDb(): Promise<string> {
    return (await this.ferretDbServer()).url;
  }

  /** A redis-server without persistence: a restart starts it empty. */
  async redisServer(): Promise<LocalServer> {
    const port = await freePort();
    return this.serve('redis-server', port, `redis://127.0.0.1:${port}`, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
  }

  /** A FerretDB on SQLite files in a fresh temp directory, which a restart keeps. */
  async ferretDbServer(): Promise<LocalServer> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'chathub-ferretdb-'));
    this.scratch.push(dir);
    return this.serve(FERRETDB, port, `mongodb://127.0.0.1:${port}/`, [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--listen-addr=127.0.0.1:${port}`,
    ]);
  }

  /**
   * Starts 2 × `masters` redis-servers with `cluster-enabled yes` (config and nodes.conf in a
   * scratch directory, no persistence), joins them with `redis-cli --cluster create` (one replica
   * per master) and resolves once every node reports cluster_state:ok, agrees on who serves every
   * slot, and every replica is in sync with its master.
   */
  async redisCluster(options: RedisClusterOptions = {}): Promise<LocalRedisCluster> {
    const size = 2 * (options.masters ?? 3);
    const dir = mkdtempSync(join(tmpdir(), 'chathub-redis-cluster-'));
    this.scratch.push(dir);
    // A client port and a cluster-bus port per node, all distinct.
    const ports = new Set<number>();
    while (ports.size < 2 * size) ports.add(await freePort());
    const [clientPorts, busPorts] = [[...ports].slice(0, size), [...ports].slice(size)];
    const nodes = new Map<number, LocalServer>();
    await Promise.all(
      clientPorts.map(async (port, i) => {
        const config = join(dir, `${port}.conf`);
        writeFileSync(
          config,
          [
            `port ${port}`,
            `cluster-port ${busPorts[i]}`,
            'bind 127.0.0.1',
            'cluster-enabled yes',
            `cluster-config-file ${join(dir, `nodes-${port}.conf`)}`,
            `cluster-node-timeout ${options.nodeTimeoutMs ?? 2_000}`,
            `dir ${dir}`,
            'save ""',
            'appendonly no',
          ].join('\n'),
        );
        nodes.set(port, await this.serve('redis-server', port, `127.0.0.1:${port}`, [config]));
      }),
    );
    const seeds = [...nodes.values()].map((node) => node.url).join(',');
    try {
      await run(
        'redis-cli',
        ['--cluster', 'create', ...seeds.split(','), '--cluster-replicas', '1', '--cluster-yes'],
        { timeout: 30_000 },
      );
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new Error(`redis-cli --cluster create failed (run scripts/provision.sh): ${detail}`);
    }
    const admin = new ClusterAdmin(seeds);
    try {
      await admin.waitHealthy(size);
    } finally {
      admin.close();
    }
    return {
      seeds,
      async kill(port) {
        const node = nodes.get(port);
        if (!node) throw new Error(`no cluster node of ours listens on ${port}`);
        await node.kill();
      },
    };
  }

  /** Pids of the servers still running (e.g. to sample their CPU time). */
  pids(): number[] {
    return this.running().flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  /** SIGTERMs every server, waits for them to exit (SIGKILL after a grace period), then
   *  removes the scratch directories. */
  async stop(): Promise<void> {
    const running = this.running();
    const exited = running.map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of running) child.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const child of this.running()) child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await Promise.all(exited);
    clearTimeout(timer);
    this.removeScratch();
  }

  /** Synchronous last resort (a hard timeout, a signal): SIGKILL everything, remove scratch. */
  killNow(): void {
    for (const child of this.running()) child.kill('SIGKILL');
    this.removeScratch();
  }

  private running(): ChildProcess[] {
    return this.started.filter((child) => child.exitCode === null && child.signalCode === null);
  }

  private removeScratch(): void {
    for (const dir of this.scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  }

  private async serve(
    command: string,
    port: number,
    url: string,
    args: string[],
  ): Promise<LocalServer> {
    const start = async () => {
      const launched = this.launch(command, args);
      await waitForPort(port, command, launched);
      return launched.child;
    };
    let child = await start();
    return {
      url,
      signal: (signal) => child.kill(signal),
      async kill() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      },
      async restart() {
        child = await start();
      },
    };
  }

  private launch(command: string, args: string[]): Launched {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.started.push(child);
    let stderr = '';
    let failure: string | null = null;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
    child.once('error', (error) => {
      failure = `${command} could not start (${error.message}); run scripts/provision.sh or set its URL`;
    });
    child.once('exit', (code) => {
      failure ??= `${command} exited with ${code}:\n${stderr}`;
    });
    return { child, failure: () => failure };
  }
}

interface Launched {
  child: ChildProcess;
  /** Set when the process could not start or has exited: why, with the end of its stderr. */
  failure(): string | null;
}

async function waitForPort(
  port: number,
  what: string,
  process: Launched,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const failure = process.failure();
    if (failure) throw new Error(failure);
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}
