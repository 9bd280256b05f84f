import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { PublicUser, Session } from '../contract/models.js';

export interface TokenClaims {
  user: PublicUser;
  /** Expiry in epoch milliseconds. */
  expiresAt: number;
}

/** HS256 session tokens; the only source of a caller's identity. */
export class TokenIssuer {
  /**
   * A key object made once: given the secret as a string, jsonwebtoken first tries (and fails) to
   * parse it as a PEM public or private key on every call, about 60 times the cost of the HMAC.
   */
  private readonly secret: KeyObject;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.secret = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  issue(user: PublicUser): Session {
    const token = jwt.sign({ name: user.username }, this.secret, {
      algorithm: 'HS256',
      subject: user.id,
      expiresIn: this.ttlSeconds,
    });
    const { expiresAt } = this.decodeTrusted(token);
    return { token, expiresAt, user };
  }

  /**
   * Returns the claims of a genuine token, or null for a missing, malformed or tampered one.
   * Expired tokens still return their claims so callers can say "expired" rather than "unknown";
   * whoever grants access must check `expiresAt` (the authed procedure does).
   */
  verify(token: string | null | undefined): TokenClaims | null {
    if (!token) return null;
    try {
      const payload = jwt.verify(token, this.secret, {
        algorithms: ['HS256'],
        ignoreExpiration: true,
      });
      return toClaims(payload);
    } catch {
      return null;
    }
  }

  private decodeTrusted(token: string): TokenClaims {
    const claims = toClaims(jwt.decode(token));
    if (!claims) throw new Error('issued token has no valid claims');
    return claims;
  }
}

function toClaims(payload: unknown): TokenClaims | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { sub, name, exp } = payload as Record<string, unknown>;
  if (typeof sub !== 'string' || typeof name !== 'string' || typeof exp !== 'number') return null;
  return { user: { id: sub, username: name }, expiresAt: exp * 1000 };
}
