import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { freePort } from '../helpers/ports.js';

/**
 * Vitest global setup: the real servers the integration suites use. REDIS_URL and MONGO_URL point
 * the suites at servers you run (real Redis, real MongoDB); otherwise a redis-server and a
 * FerretDB (MongoDB wire protocol over SQLite) start here on free loopback ports. A server that
 * cannot be had is an error, never a skip: `npm test` provisions both (scripts/provision.sh).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FERRETDB = join(ROOT, '.tools/bin/ferretdb');

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    mongoUrl: string;
  }
}

const started: ChildProcess[] = [];
const scratch: string[] = [];

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redisUrl = process.env.REDIS_URL || (await startRedis());
  const mongoUrl = process.env.MONGO_URL || (await startFerretDb());
  project.provide('redisUrl', redisUrl);
  project.provide('mongoUrl', mongoUrl);
  return async () => {
    const running = started.filter((child) => child.exitCode === null && child.signalCode === null);
    const exited = running.map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of running) child.kill('SIGTERM');
    await Promise.all(exited);
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  };
}

async function startRedis(): Promise<string> {
  const port = await freePort();
  const redis = launch('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await waitForPort(port, 'redis-server', redis);
  return `redis://127.0.0.1:${port}`;
}

async function startFerretDb(): Promise<string> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chathub-ferretdb-'));
  scratch.push(dir);
  const ferretdb = launch(FERRETDB, [
    '--handler=sqlite',
    `--sqlite-url=file:${dir}/`,
    `--listen-addr=127.0.0.1:${port}`,
  ]);
  await waitForPort(port, 'ferretdb', ferretdb);
  return `mongodb://127.0.0.1:${port}/`;
}

interface Launched {
  /** Set when the process could not start or has exited: why, with the end of its stderr. */
  failure(): string | null;
}

function launch(command: string, args: string[]): Launched {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
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
  return { failure: () => failure };
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
