import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../helpers/process.js';
import { TEST_SECRET } from '../helpers/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'chathub-guards-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const start = (provoke: 'rejection' | 'exception') =>
  spawnServer(
    { DATA_DIR: dataDir, JWT_SECRET: TEST_SECRET, PROVOKE: provoke },
    { preload: 'test/fixtures/provokeOnSignal.ts' },
  );

/** The JSON log lines at error level. */
const errorLines = (log: string) =>
  log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; message: string; error?: string })
    .filter((line) => line.level === 'error');

describe('process-level guards', () => {
  it('logs an unhandled rejection loudly, with its stack, and keeps serving', async () => {
    const server = await start('rejection');
    try {
      server.child.kill('SIGUSR2');
      await expect
        .poll(() => errorLines(server.log()), { timeout: 10_000 })
        .toEqual([
          expect.objectContaining({
            message: 'unhandled promise rejection (a bug: the process carries on)',
            error: expect.stringMatching(/provoked rejection nobody handles\n\s+at /),
          }),
        ]);
      const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(health.status).toBe(200);
      expect(server.child.exitCode).toBeNull();
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
  });

  it('logs an uncaught exception with its stack and exits 1', async () => {
    const server = await start('exception');
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGUSR2');
    expect(await exited).toBe(1);
    expect(errorLines(server.log())).toEqual([
      expect.objectContaining({
        message: 'uncaught exception; exiting',
        error: expect.stringMatching(/provoked exception nobody catches\n\s+at /),
      }),
    ]);
  });
});
