/**
 * A chat server's write path alone, as its own process: appends messages to one room of a
 * MongoDB store and reports each append on stdout as a JSON line. Run by
 * test/integration/storage.writers.test.ts as `node --import tsx test/helpers/logWriter.ts`.
 *
 * It reports `ready` once connected and starts when a line arrives on stdin, so that several
 * writers start together.
 *
 * Environment: MONGO_URL (with the database), ROOM_ID, WRITER (a name, also the author), and
 * either RATE and COUNT (appends per second, each started on schedule without waiting for the
 * previous one) or FLOOD and SECONDS (appends kept in flight, as fast as they complete, for that
 * long).
 */
import { AS_SENT } from '../../src/contract/models.js';
import { createUlidFactory } from '../../src/domain/ids.js';
import { openMongoStore } from '../../src/storage/mongo.js';

export type WriterReport =
  | { kind: 'ready' }
  | { kind: 'append'; index: number; seq: number; ms: number }
  | { kind: 'failed'; index: number; error: string; ms: number }
  | { kind: 'done' };

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const roomId = required('ROOM_ID');
const writer = required('WRITER');
const flood = Number(process.env.FLOOD ?? 0);
const store = await openMongoStore(required('MONGO_URL'));
const ulid = createUlidFactory();
const report = (line: WriterReport) => process.stdout.write(`${JSON.stringify(line)}\n`);

const appendOne = async (index: number): Promise<void> => {
  const startedAt = performance.now();
  const message = {
    id: ulid(),
    roomId,
    author: { id: writer, username: writer },
    body: `${writer} ${index}`,
    createdAt: Date.now(),
    up: 0,
    down: 0,
    ...AS_SENT,
  };
  try {
    const { seq } = await store.messages.append(message);
    report({ kind: 'append', index, seq, ms: performance.now() - startedAt });
  } catch (error) {
    report({ kind: 'failed', index, error: String(error), ms: performance.now() - startedAt });
  }
};

report({ kind: 'ready' });
await new Promise((resolve) => process.stdin.once('data', resolve));
const start = performance.now();
const appends: Promise<void>[] = [];
if (flood > 0) {
  const until = start + Number(required('SECONDS')) * 1000;
  let next = 0;
  const lane = async () => {
    while (performance.now() < until) await appendOne(next++);
  };
  appends.push(...Array.from({ length: flood }, lane));
} else {
  const rate = Number(required('RATE'));
  const count = Number(required('COUNT'));
  for (let index = 0; index < count; index++) {
    const due = start + (index * 1000) / rate;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    appends.push(appendOne(index));
  }
}
await Promise.all(appends);
report({ kind: 'done' });
await store.close();
process.stdin.destroy();
