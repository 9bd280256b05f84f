import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChatHubConnection } from '../../src/client/index.js';
import { EventLog } from '../helpers/events.js';
import { type ServerProcess, spawnServer } from '../helpers/process.js';
import { signUpAndConnect, TEST_SECRET } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';

/**
 * A chat server process on a real Redis, through a TCP proxy that can cut it off. Closing a tab
 * while Redis is unreachable used to end the process (an unhandled rejection from presence).
 */
const dataDir = mkdtempSync(join(tmpdir(), 'chathub-redis-outage-'));
let redis: TcpProxy;
let server: ServerProcess;
let apiUrl: string;
const connections: ChatHubConnection[] = [];
const logs: EventLog[] = [];

async function user(): Promise<ChatHubConnection> {
  const connection = await signUpAndConnect(apiUrl, `outage${randomBytes(3).toString('hex')}`);
  connections.push(connection);
  return connection;
}

function follow(connection: ChatHubConnection): EventLog {
  const log = EventLog.open(connection, 'general');
  logs.push(log);
  return log;
}

async function readiness(): Promise<number> {
  return (await fetch(`${apiUrl}/readyz`)).status;
}

async function readinessBecomes(status: number): Promise<void> {
  for (let i = 0; i < 100 && (await readiness()) !== status; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(await readiness()).toBe(status);
}

beforeAll(async () => {
  redis = await startTcpProxy(inject('redisUrl'));
  server = await spawnServer({
    REDIS_URL: redis.url,
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_SECRET,
  });
  apiUrl = `http://127.0.0.1:${server.port}`;
}, 60_000);

afterAll(async () => {
  for (const log of logs) log.close();
  await Promise.allSettled(connections.map((connection) => connection.close()));
  await server.stop('SIGTERM');
  await redis.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a chat server while Redis is unreachable', { timeout: 60_000 }, () => {
  it('stays up when a client leaves, and serves new clients once Redis is back', async () => {
    const stayer = await user();
    const stayerLog = follow(stayer);
    const leaver = await user();
    const leaverLog = follow(leaver);
    for (const log of [stayerLog, leaverLog]) {
      await log.waitFor(() => log.online() === 2, 'both online', 10_000);
    }

    redis.block();
    await readinessBecomes(503);
    // The tab closes: its subscription leaves the room, and presence cannot be told.
    await leaver.close();
    // Stored while pub/sub is down; acknowledged all the same.
    const during = await stayer.chat.send.mutate({ roomId: 'general', body: 'during' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);

    redis.unblock();
    await readinessBecomes(200);
    const newcomer = follow(await user());
    const after = await stayer.chat.send.mutate({ roomId: 'general', body: 'after' });
    for (const log of [stayerLog, newcomer]) {
      await log.waitFor(
        () => [during.id, after.id].every((id) => log.messages().some((m) => m.id === id)),
        'both messages',
        15_000,
      );
    }
    // The leaver's presence, which Redis never heard go, expires: the stayer and the newcomer.
    await newcomer.waitFor(() => newcomer.online() === 2, 'the leaver out of the count', 20_000);
    expect(server.child.exitCode).toBeNull();
    expect(server.log()).not.toContain('"level":"error"');
  });

  it('still drains and exits 0 on SIGTERM', async () => {
    redis.block();
    await readinessBecomes(503);
    const started = Date.now();
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.log()).toContain('could not leave discovery');
  });
});
