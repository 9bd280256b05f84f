/** A queued write: the committer settles it; `fail` is how the queue settles it when a batch throws. */
export interface QueuedWrite {
  fail(error: unknown): void;
}

export interface GroupCommitOptions {
  /** Most writes one batch takes; the rest wait for the next batch of their room. */
  maxBatch: number;
  /**
   * When an idle room's first write starts its batch. By default at once, and writes that arrive
   * while a batch is in flight form the next one. A synchronous committer (SQLite) defers it, so
   * that writes arriving in the same turn of the event loop share a batch.
   */
  schedule?: (start: () => void) => void;
}

/**
 * Group commit: queues each room's writes in arrival order and hands them to `commit` in
 * batches, one batch in flight per room. `commit` settles every write of its batch (resolving
 * each in the order it wants its callers to continue); if it throws instead, the queue fails the
 * batch's writes with that error and goes on with the next batch.
 */
export function groupCommit<W extends QueuedWrite>(
  commit: (roomId: string, batch: W[]) => Promise<void>,
  options: GroupCommitOptions,
): (roomId: string, write: W) => void {
  /** Rooms with a batch in flight or scheduled, and the writes waiting behind it. */
  const queues = new Map<string, W[]>();

  const drain = async (roomId: string, queue: W[]): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.splice(0, options.maxBatch);
      try {
        await commit(roomId, batch);
      } catch (error) {
        for (const write of batch) write.fail(error);
      }
    }
    queues.delete(roomId);
  };

  return (roomId, write) => {
    const waiting = queues.get(roomId);
    if (waiting) {
      waiting.push(write);
      return;
    }
    const queue = [write];
    queues.set(roomId, queue);
    // drain settles every write itself and never rejects.
    const start = () => void drain(roomId, queue);
    if (options.schedule) options.schedule(start);
    else start();
  };
}
