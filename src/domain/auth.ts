import { randomBytes } from 'node:crypto';
import type { PublicUser, Session } from '../contract/models.js';
import type { CredentialsInput } from '../contract/schemas.js';
import { DuplicateKeyError, type Store, type UserRecord } from '../storage/store.js';
import { DomainError } from './errors.js';
import { ulid } from './ids.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { type RateLimit, RateLimiter } from './rateLimiter.js';
import { type SignInLimits, SignInThrottle } from './signInThrottle.js';
import type { TokenIssuer } from './tokens.js';

const BAD_CREDENTIALS = 'Wrong username or password';

export interface AuthLimits extends SignInLimits {
  /** Sign-ups per client address, sized for a crowd behind one public address. */
  signUpsPerAddress: RateLimit;
}

export class AuthService {
  /** Verified against when the user does not exist, so both failures cost the same time. */
  private readonly decoyHash: Promise<string>;
  private readonly signUps: RateLimiter;
  private readonly signIns: SignInThrottle;

  constructor(
    private readonly store: Store,
    private readonly tokens: TokenIssuer,
    limits: AuthLimits,
    now: () => number = Date.now,
  ) {
    this.decoyHash = hashPassword(randomBytes(16).toString('hex'));
    this.signUps = new RateLimiter(limits.signUpsPerAddress, now);
    this.signIns = new SignInThrottle(limits, now);
  }

  /**
   * Creates an account. `from` is the client's address for sign-ups from clients (limited per
   * address); accounts the server makes itself (tests, tools) omit it.
   */
  async signUp({ username, password }: CredentialsInput, from?: string): Promise<PublicUser> {
    if (from !== undefined && !this.signUps.tryTake(from)) {
      throw new DomainError(
        'TOO_MANY_REQUESTS',
        'Too many sign-ups from your network; try again in a few minutes',
      );
    }
    const user = { id: ulid(), username };
    try {
      await this.store.users.create({
        ...user,
        passwordHash: await hashPassword(password),
        createdAt: Date.now(),
      });
    } catch (error) {
      if (error instanceof DuplicateKeyError) {
        throw new DomainError('CONFLICT', `The username "${username}" is already taken`);
      }
      throw error;
    }
    if (from !== undefined) this.signIns.remember(accountKey(username), from);
    return user;
  }

  /** Signs in from the client address `from`; failed attempts are throttled (see SignInThrottle). */
  async signIn({ username, password }: CredentialsInput, from: string): Promise<Session> {
    const account = accountKey(username);
    const attempt = this.signIns.begin(account, from);
    const user = await this.verify(username, password).catch((error: unknown) => {
      // Nothing was checked (the database is unreachable): not a failed guess.
      attempt.release();
      throw error;
    });
    if (!user) throw new DomainError('UNAUTHORIZED', BAD_CREDENTIALS);
    attempt.release();
    this.signIns.remember(account, from);
    return this.tokens.issue({ id: user.id, username: user.username });
  }

  /** The user when the password is theirs; unknown users cost the same hashing work. */
  private async verify(username: string, password: string): Promise<UserRecord | null> {
    const record = await this.store.users.findByUsername(username);
    const valid = await verifyPassword(record?.passwordHash ?? (await this.decoyHash), password);
    return record && valid ? record : null;
  }

  /** A fresh token for a caller whose current token is still valid. */
  refresh(user: PublicUser): Session {
    return this.tokens.issue(user);
  }
}

/** Usernames are unique ignoring case, so their budgets are too. */
function accountKey(username: string): string {
  return username.toLowerCase();
}
