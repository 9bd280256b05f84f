import { TRPCClientError } from '@trpc/client';

/** How a call ended: its result, the server's error code, or `closed` when its socket closed first. */
export type Outcome = { ok: true } | { ok: false; code: string; message: string };

export function outcomeOf(settled: PromiseSettledResult<unknown>): Outcome {
  if (settled.status === 'fulfilled') return { ok: true };
  const error = settled.reason;
  if (!(error instanceof TRPCClientError)) throw error;
  const data = error.data as { code?: string } | undefined;
  return { ok: false, code: data?.code ?? 'closed', message: error.message };
}

/**
 * Waits for every call to settle, failing (instead of hanging the test) when any is still
 * unanswered after `timeoutMs`.
 */
export async function settleWithin(
  calls: Promise<unknown>[],
  timeoutMs = 10_000,
): Promise<Outcome[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`calls were still unanswered after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return (await Promise.race([Promise.allSettled(calls), late])).map(outcomeOf);
  } finally {
    clearTimeout(timer);
  }
}

/** How many outcomes of each kind: `{ ok: 20, TOO_MANY_REQUESTS: 20 }`. */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    const key = outcome.ok ? 'ok' : outcome.code;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
