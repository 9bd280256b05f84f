export interface RateLimit {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: how many may be spent at once after a quiet period. */
  burst: number;
}

/** Token buckets keyed by caller (user id, address); memory stays bounded by pruning full ones. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Spends one token; returns false when the caller is over the limit. */
  tryTake(key: string): boolean {
    const at = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at };
    const tokens = Math.min(
      this.limit.burst,
      bucket.tokens + ((at - bucket.at) / 1000) * this.limit.perSecond,
    );
    // A refusal leaves the bucket as it was, so refill keeps counting from the last success
    // instead of accumulating rounding errors.
    if (tokens < 1) return false;
    this.buckets.set(key, { tokens: tokens - 1, at });
    if (this.buckets.size > this.maxKeys) this.prune(at);
    return true;
  }

  private prune(at: number): void {
    for (const [key, bucket] of this.buckets) {
      const refilled = bucket.tokens + ((at - bucket.at) / 1000) * this.limit.perSecond;
      if (refilled >= this.limit.burst) this.buckets.delete(key);
    }
  }
}
