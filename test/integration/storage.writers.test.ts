import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AS_SENT } from '../../src/contract/models.js';
import { createUlidFactory } from '../../src/domain/ids.js';
import { STORAGE_LIMITS } from '../../src/limits.js';
import { openMongoStore } from '../../src/storage/mongo.js';
import type { Store } from '../../src/storage/store.js';
import type { WriterReport } from '../helpers/logWriter.js';

/**
 * Two chat servers' write paths, as separate processes, appending to one room of a MongoDB store
 * (FerretDB unless MONGO_URL is set) whose log already holds thousands of entries. However the
 * other writes, every append of each completes within APPEND_BOUND_MS, and both make progress.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const database = `chathub_writers_${randomBytes(4).toString('hex')}`;
const mongoUrl = (() => {
  const url = new URL(inject('mongoUrl'));
  url.pathname = `/${database}`;
  return url.toString();
})();
const PRELOADED = 3_000;
/** The bound every append must meet: generous, since the machine is shared. */
const APPEND_BOUND_MS = 5_000;
const STEADY = { COUNT: 200, RATE: 20 };

let store: Store;

beforeAll(async () => {
  store = await openMongoStore(mongoUrl);
  const ulid = createUlidFactory();
  for (const roomId of ['steady', 'flooded']) {
    await store.rooms.create({ id: roomId, name: roomId, createdAt: 1 });
    for (let done = 0; done < PRELOADED; done += STORAGE_LIMITS.commitBatchMax) {
      await Promise.all(
        Array.from({ length: STORAGE_LIMITS.commitBatchMax }, (_, i) =>
          store.messages.append({
            id: ulid(),
            roomId,
            author: { id: 'before', username: 'before' },
            body: `before ${done + i}`,
            createdAt: 1,
            up: 0,
            down: 0,
            ...AS_SENT,
          }),
        ),
      );
    }
  }
}, 120_000);

afterAll(async () => {
  await store?.close();
  const client = new MongoClient(inject('mongoUrl'), { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
});

/**
 * Runs test/helpers/logWriter.ts in one process per environment, starts them together once all
 * are connected, and resolves with each one's reports.
 */
async function runWriters(envs: Record<string, string | number>[]): Promise<WriterReport[][]> {
  const writers = envs.map((env) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/logWriter.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        MONGO_URL: mongoUrl,
        ...Object.fromEntries(Object.entries(env).map(([name, value]) => [name, String(value)])),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let ready: () => void = () => {};
    const connected = new Promise<void>((resolve) => {
      ready = resolve;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('"ready"')) ready();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const finished = new Promise<WriterReport[]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => {
        if (code !== 0) reject(new Error(`writer ${env.WRITER} exited with ${code}:\n${stderr}`));
        else
          resolve(
            stdout
              .trim()
              .split('\n')
              .map((line) => JSON.parse(line) as WriterReport),
          );
      });
    });
    return { child, connected: Promise.race([connected, finished.then(() => {})]), finished };
  });
  await Promise.all(writers.map((writer) => writer.connected));
  for (const { child } of writers) child.stdin.write('go\n');
  return Promise.all(writers.map((writer) => writer.finished));
}

/** Every append succeeded within the bound, in the order the writer made them. */
function expectAllWithinBound(reports: WriterReport[], count?: number): number[] {
  expect(reports.filter((report) => report.kind === 'failed')).toEqual([]);
  expect(reports.at(-1)).toEqual({ kind: 'done' });
  const appends = reports.flatMap((report) => (report.kind === 'append' ? [report] : []));
  if (count !== undefined) expect(appends).toHaveLength(count);
  const slowest = Math.max(...appends.map((append) => append.ms));
  expect(slowest).toBeLessThanOrEqual(APPEND_BOUND_MS);
  const seqs = [...appends].sort((a, b) => a.index - b.index).map((append) => append.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  return seqs;
}

/** The whole log: gap-free, and each writer's messages in the order it wrote them. */
async function expectLog(roomId: string, total: number, writers: Record<string, number>) {
  const entries = await store.messages.eventsAfter(roomId, 0, total + 1);
  expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  for (const [writer, count] of Object.entries(writers)) {
    const bodies = entries.flatMap(({ event }) =>
      event.type === 'message' && event.message.author.id === writer ? [event.message.body] : [],
    );
    expect(bodies).toEqual(Array.from({ length: count }, (_, i) => `${writer} ${i}`));
  }
  await expect(store.messages.head(roomId)).resolves.toBe(total);
}

describe(`two writer processes on one room with ${PRELOADED} entries`, () => {
  it('both writing at a steady rate: every append of each within the bound', async () => {
    const [a = [], b = []] = await runWriters([
      { ROOM_ID: 'steady', WRITER: 'steady-a', ...STEADY },
      { ROOM_ID: 'steady', WRITER: 'steady-b', ...STEADY },
    ]);
    const seqsA = expectAllWithinBound(a, STEADY.COUNT);
    const seqsB = expectAllWithinBound(b, STEADY.COUNT);
    // They wrote side by side: each one's entries lie among the other's.
    expect(Math.min(...seqsA)).toBeLessThan(Math.max(...seqsB));
    expect(Math.min(...seqsB)).toBeLessThan(Math.max(...seqsA));
    await expectLog('steady', PRELOADED + 2 * STEADY.COUNT, {
      'steady-a': STEADY.COUNT,
      'steady-b': STEADY.COUNT,
    });
  }, 60_000);

  it('one writing at a steady rate while the other floods: every append of each within the bound', async () => {
    // As many appends in flight as it can, for as long as the steady writer writes.
    const flood = { FLOOD: 20, SECONDS: STEADY.COUNT / STEADY.RATE };
    const [flooder = [], steady = []] = await runWriters([
      { ROOM_ID: 'flooded', WRITER: 'flooder', ...flood },
      { ROOM_ID: 'flooded', WRITER: 'steady', ...STEADY },
    ]);
    const flooded = expectAllWithinBound(flooder);
    const steadySeqs = expectAllWithinBound(steady, STEADY.COUNT);
    // The flood went on all along, and the steady writer got in throughout it.
    expect(flooded.length).toBeGreaterThan(2 * STEADY.COUNT);
    expect(Math.min(...steadySeqs)).toBeLessThan(Math.min(...flooded) + flooded.length / 4);
    expect(Math.max(...steadySeqs)).toBeGreaterThan(Math.max(...flooded) - flooded.length / 4);
    await expectLog('flooded', PRELOADED + flooded.length + STEADY.COUNT, {
      flooder: flooded.length,
      steady: STEADY.COUNT,
    });
  }, 60_000);
});
