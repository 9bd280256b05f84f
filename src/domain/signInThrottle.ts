import { ACCOUNT_DEFAULTS } from '../limits.js';
import { DomainError } from './errors.js';
import { type RateLimit, RateLimiter } from './rateLimiter.js';

export interface SignInLimits {
  /** Failed sign-ins per account (by username, whether the account exists or not). */
  failuresPerAccount: RateLimit;
  /** Failed sign-ins per client address, across all accounts. */
  failuresPerAddress: RateLimit;
}

/** A reserved sign-in attempt: released when it did not fail, spent when it did. */
export interface SignInAttempt {
  /** The attempt does not count as a failure (the password was right, or it was never checked). */
  release(): void;
}

/**
 * Throttles failed sign-ins per account and per client address (OWASP ASVS 2.2.1). Every attempt
 * reserves one failure from both budgets before the password is checked, so concurrent guesses
 * cannot slip past a limit; one that succeeds gives them back, so a crowd signing in from one
 * public address spends nothing.
 *
 * An address that has spent its budget may still sign in to accounts that signed up or in from it
 * before (remembered per process): people at a venue keep working while someone on the same
 * network guesses, and the guesser learns nothing about any other account. An account that has
 * spent its budget refuses every address, the right password included, until it refills.
 */
export class SignInThrottle {
  private readonly perAccount: RateLimiter;
  private readonly perAddress: RateLimiter;
  /** `address account` → true, in the order last seen. */
  private readonly known = new Map<string, true>();

  constructor(
    limits: SignInLimits,
    now: () => number = Date.now,
    /** (address, account) pairs remembered, a few MB at most; the oldest are forgotten first. */
    private readonly knownPairsMax: number = ACCOUNT_DEFAULTS.knownPairsMax,
  ) {
    this.perAccount = new RateLimiter(limits.failuresPerAccount, now);
    this.perAddress = new RateLimiter(limits.failuresPerAddress, now);
  }

  /** Reserves an attempt on `account` from `address`; TOO_MANY_REQUESTS when it may not be made. */
  begin(account: string, address: string): SignInAttempt {
    if (!this.perAccount.tryTake(account)) {
      throw new DomainError(
        'TOO_MANY_REQUESTS',
        'Too many failed sign-ins for this account; wait a few minutes and try again',
      );
    }
    const addressReserved = this.perAddress.tryTake(address);
    if (!addressReserved && !this.known.has(pairKey(address, account))) {
      this.perAccount.refund(account);
      throw new DomainError(
        'TOO_MANY_REQUESTS',
        'Too many failed sign-ins from your network; wait a few minutes and try again',
      );
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.perAccount.refund(account);
        if (addressReserved) this.perAddress.refund(address);
      },
    };
  }

  /** Notes that `account` proved its password (or was created) from `address`. */
  remember(account: string, address: string): void {
    const key = pairKey(address, account);
    this.known.delete(key);
    this.known.set(key, true);
    if (this.known.size > this.knownPairsMax) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }
}

function pairKey(address: string, account: string): string {
  return `${address} ${account}`;
}
