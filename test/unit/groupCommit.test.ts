import { describe, expect, it } from 'vitest';
import { groupCommit, type QueuedWrite } from '../../src/storage/groupCommit.js';

const MAX_BATCH = 100;

interface Write extends QueuedWrite {
  id: number;
  failedWith: unknown;
}

const write = (id: number): Write => ({
  id,
  failedWith: null,
  fail(error) {
    this.failedWith = error;
  },
});

/** A committer that records its batches and finishes each when the test says so. */
function recorder() {
  const batches: { roomId: string; ids: number[] }[] = [];
  const finishers: (() => void)[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const commit = async (roomId: string, batch: Write[]) => {
    batches.push({ roomId, ids: batch.map((each) => each.id) });
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await new Promise<void>((resolve) => finishers.push(resolve));
    inFlight--;
  };
  /** Lets every batch in flight finish, then gives the queue a turn to start the next ones. */
  const finishAll = async () => {
    for (const finish of finishers.splice(0)) finish();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, commit, finishAll, mostInFlight: () => mostInFlight };
}

describe('groupCommit', () => {
  it('commits what queued during a batch as the next batch, at most MAX_BATCH at a time, in order', async () => {
    const { batches, commit, finishAll, mostInFlight } = recorder();
    const add = groupCommit(commit, { maxBatch: MAX_BATCH });
    const count = 2 * MAX_BATCH + 50;
    for (let id = 0; id < count; id++) add('room', write(id));

    while (batches.flatMap((batch) => batch.ids).length < count) await finishAll();
    await finishAll();

    // The first write starts a batch at once; the others waited behind it.
    expect(batches.map((batch) => batch.ids.length)).toEqual([1, MAX_BATCH, MAX_BATCH, 49]);
    expect(batches.flatMap((batch) => batch.ids)).toEqual(
      Array.from({ length: count }, (_, i) => i),
    );
    expect(mostInFlight()).toBe(1);
  });

  it('keeps one batch in flight per room, and rooms independent', async () => {
    const { batches, commit, finishAll, mostInFlight } = recorder();
    const add = groupCommit(commit, { maxBatch: MAX_BATCH });
    add('a', write(1));
    add('b', write(2));
    add('a', write(3));
    add('a', write(4));
    add('b', write(5));
    expect(batches).toEqual([
      { roomId: 'a', ids: [1] },
      { roomId: 'b', ids: [2] },
    ]);
    expect(mostInFlight()).toBe(2);
    await finishAll();
    expect(batches.slice(2)).toEqual([
      { roomId: 'a', ids: [3, 4] },
      { roomId: 'b', ids: [5] },
    ]);
    await finishAll();
    // An idle room starts its next write at once again.
    add('a', write(6));
    expect(batches.at(-1)).toEqual({ roomId: 'a', ids: [6] });
    await finishAll();
  });

  it('fails every write of a batch whose commit throws, and goes on with the next batch', async () => {
    const { batches, commit, finishAll } = recorder();
    const add = groupCommit<Write>(
      async (roomId, batch) => {
        await commit(roomId, batch);
        if (batch.some((each) => each.id === 2)) throw new Error('database down');
      },
      { maxBatch: MAX_BATCH },
    );
    const writes = [1, 2, 3, 4].map(write);
    for (const each of writes.slice(0, 3)) add('room', each);
    await finishAll(); // [1] commits; [2, 3] starts
    await finishAll(); // [2, 3] throws; the queue is idle
    add('room', writes[3] as Write);
    await finishAll();

    expect(batches.map((batch) => batch.ids)).toEqual([[1], [2, 3], [4]]);
    expect(writes.map((each) => (each.failedWith as Error | null)?.message ?? null)).toEqual([
      null,
      'database down',
      'database down',
      null,
    ]);
  });

  it('with a schedule, starts a batch only when it says, so writes of one turn share it', async () => {
    const { batches, commit, finishAll } = recorder();
    const add = groupCommit(commit, { maxBatch: MAX_BATCH, schedule: setImmediate });
    for (let id = 0; id < 5; id++) add('room', write(id));
    expect(batches).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([{ roomId: 'room', ids: [0, 1, 2, 3, 4] }]);
    await finishAll();
  });
});
