/**
 * A chat server's write path alone, as its own process: appends messages to one room of a
 * MongoDB store and reports each append on stdout as a JSON line. Run by
 * test/integration/storage.writers.test.ts as `node --import tsx test/helpers/logWriter.ts`.
 *
 * Environment: MONGO_URL (with the database), ROOM_ID, WRITER (a name, also the author),
 * COUNT (appends), and either RATE (appends per second, each started on schedule without waiting
 * for the previous one) or FLOOD (how many appends to keep in flight, as fast as they complete).
 */
import { createUlidFactory } from '../../src/domain/ids.js';
import { openMongoStore } from '../../src/storage/mongo.js';

export type WriterReport =
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
const count = Number(required('COUNT'));
const rate = Number(process.env.RATE ?? 0);
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
  };
  try {
    const { seq } = await store.messages.append(message);
    report({ kind: 'append', index, seq, ms: performance.now() - startedAt });
  } catch (error) {
    report({ kind: 'failed', index, error: String(error), ms: performance.now() - startedAt });
  }
};

const appends: Promise<void>[] = [];
if (flood > 0) {
  let next = 0;
  const lane = async () => {
    while (next < count) await appendOne(next++);
  };
  appends.push(...Array.from({ length: flood }, lane));
} else {
  const start = performance.now();
  for (let index = 0; index < count; index++) {
    const due = start + (index * 1000) / rate;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    appends.push(appendOne(index));
  }
}
await Promise.all(appends);
report({ kind: 'done' });
await store.close();
