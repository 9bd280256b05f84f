export type Spent = 'serve' | 'refuse' | 'close';

/**
 * One connection's allowance of requests: a token bucket (a rate, after a burst) that may run
 * into debt. A request is served while a token is there; past the rate it is refused, and a
 * refusal costs a token too, since answering "no" is work the server does for the client. A
 * client that keeps sending until its debt reaches a full burst is not heeding its refusals: its
 * connection is closed, so no client can make the server answer faster than the rate allows.
 */
export class RequestBudget {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.at = now();
  }

  spend(): Spent {
    const at = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((at - this.at) / 1000) * this.perSecond);
    this.at = at;
    this.tokens -= 1;
    if (this.tokens >= 0) return 'serve';
    return this.tokens < -this.burst ? 'close' : 'refuse';
  }
}
