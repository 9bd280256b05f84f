import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection } from 'mongodb';
import type { ClaimDoc } from './documents.js';
import { ignoringDuplicate } from './errors.js';

/** How long a writer waits for another's claim on the room's next turn before removing it. */
const CLAIM_WAIT_MS = 500;
/** Longest pause between two looks at the room while waiting for another writer. */
export const MAX_POLL_PAUSE_MS = 16;

/**
 * Fairness between processes. A writer that lost a race claims the room's next turn; a writer
 * that has just committed looks for a claim by another and, while there is one, waits (at most
 * CLAIM_WAIT_MS, then it removes the claim as stale) before it commits again. So a writer with
 * a steady backlog cannot keep winning: a loser gets in within one batch of each other writer.
 */
export function turnsOf(claims: Collection<ClaimDoc>) {
  /** Names this process's claims. */
  const writerId = randomUUID();
  return {
    claim: (roomId: string) =>
      ignoringDuplicate(claims.insertOne({ _id: roomId, writer: writerId })),
    release: (roomId: string) => claims.deleteOne({ _id: roomId, writer: writerId }),
    async giveWay(roomId: string): Promise<void> {
      const deadline = Date.now() + CLAIM_WAIT_MS;
      for (let pause = 1; ; pause = Math.min(pause * 2, MAX_POLL_PAUSE_MS)) {
        const claim = await claims.findOne({ _id: roomId });
        if (!claim || claim.writer === writerId) return;
        if (Date.now() >= deadline) {
          await claims.deleteOne({ _id: roomId, writer: claim.writer });
          return;
        }
        await sleep(pause);
      }
    },
  };
}
