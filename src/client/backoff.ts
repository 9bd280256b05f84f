/** How long to wait between attempts to get a feed or a socket back. */
export interface Backoff {
  /** The first retry waits between this and twice this. */
  initialMs: number;
  /** No wait is longer than this (nor, once reached, shorter than half of it). */
  maxMs: number;
}

/** Retries start after 0.5–1 s and double up to 5–10 s. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 10_000 };

/**
 * Exponential backoff with jitter: attempt `n` (from 0) waits a random time in the upper half of
 * min(maxMs, 2·initialMs·2ⁿ), so many clients that lost the same server do not return at once.
 */
export function backoffDelay(
  attempt: number,
  backoff: Backoff = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (attempt + 1));
  return ceiling / 2 + (ceiling / 2) * random();
}
