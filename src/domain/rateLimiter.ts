export interface RateLimit {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: how many may be spent at once after a quiet period. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets keyed by caller (user id, address); memory stays bounded by pruning full ones. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Spends one token; returns false when the caller is over the limit. */
  tryTake(key: string): boolean {
    const at = this.now();
    const tokens = this.tokensAt(this.buckets.get(key), at);
    // A refusal leaves the bucket as it was, so refill keeps counting from the last success
    // instead of accumulating rounding errors.
    if (tokens < 1) return false;
    this.buckets.set(key, { tokens: tokens - 1, at });
    if (this.buckets.size > this.maxKeys) this.prune(at);
    return true;
  }

  /**
   * Gives back a token `tryTake` spent, for an attempt that turned out not to count (a sign-in
   * that succeeded). Taking first and giving back after makes the check a reservation: callers
   * running at the same time cannot all pass on the strength of one remaining token.
   */
  refund(key: string): void {
    const bucket = this.buckets.get(key);
    // A missing bucket was pruned because it had refilled: it is full already.
    if (!bucket) return;
    const at = this.now();
    this.buckets.set(key, {
      tokens: Math.min(this.limit.burst, this.tokensAt(bucket, at) + 1),
      at,
    });
  }

  private tokensAt(bucket: Bucket | undefined, at: number): number {
    if (!bucket) return this.limit.burst;
    return Math.min(
      this.limit.burst,
      bucket.tokens + ((at - bucket.at) / 1000) * this.limit.perSecond,
    );
  }

  private prune(at: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.tokensAt(bucket, at) >= this.limit.burst) this.buckets.delete(key);
    }
  }
}
