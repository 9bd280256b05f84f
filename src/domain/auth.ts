import { randomBytes } from 'node:crypto';
import type { PublicUser, Session } from '../contract/models.js';
import type { CredentialsInput } from '../contract/schemas.js';
import { DuplicateKeyError, type Store } from '../storage/store.js';
import { DomainError } from './errors.js';
import { ulid } from './ids.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { TokenIssuer } from './tokens.js';

const BAD_CREDENTIALS = 'Wrong username or password';

export class AuthService {
  /** Verified against when the user does not exist, so both failures cost the same time. */
  private readonly decoyHash: Promise<string>;

  constructor(
    private readonly store: Store,
    private readonly tokens: TokenIssuer,
  ) {
    this.decoyHash = hashPassword(randomBytes(16).toString('hex'));
  }

  async signUp({ username, password }: CredentialsInput): Promise<PublicUser> {
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
    return user;
  }

  async signIn({ username, password }: CredentialsInput): Promise<Session> {
    const record = await this.store.users.findByUsername(username);
    const valid = await verifyPassword(record?.passwordHash ?? (await this.decoyHash), password);
    if (!record || !valid) throw new DomainError('UNAUTHORIZED', BAD_CREDENTIALS);
    return this.tokens.issue({ id: record.id, username: record.username });
  }

  /** A fresh token for a caller whose current token is still valid. */
  refresh(user: PublicUser): Session {
    return this.tokens.issue(user);
  }
}
