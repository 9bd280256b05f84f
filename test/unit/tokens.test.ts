import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { TokenIssuer } from '../../src/domain/tokens.js';

const SECRET = 'unit-test-secret-that-is-long-enough-42';
const user = { id: '01HZX3V9Q8ZJ5T6W7Y8A9B0C1D', username: 'alice' };
const issuer = new TokenIssuer(SECRET, 900);
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('TokenIssuer', () => {
  it('issues a token that verifies back to the same user and expiry', () => {
    const before = Date.now();
    const session = issuer.issue(user);
    expect(session.user).toEqual(user);
    expect(session.token.split('.')).toHaveLength(3);
    // Whole seconds: the expiry is at most 1 s before now + ttl.
    expect(session.expiresAt).toBeGreaterThan(before + 899_000 - 1);
    expect(session.expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);
    expect(session.expiresAt % 1000).toBe(0);
    expect(issuer.verify(session.token)).toEqual({ user, expiresAt: session.expiresAt });
  });

  it('signs with HS256', () => {
    const { token } = issuer.issue(user);
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString());
    expect(header.alg).toBe('HS256');
  });

  it('rejects a token whose signature was tampered with', () => {
    const [header, payload, signature = ''] = issuer.issue(user).token.split('.');
    const flipped = signature[5] === 'A' ? 'B' : 'A';
    const tampered = `${header}.${payload}.${signature.slice(0, 5)}${flipped}${signature.slice(6)}`;
    expect(issuer.verify(tampered)).toBeNull();
  });

  it('rejects a token whose payload was changed', () => {
    const [header, , signature] = issuer.issue(user).token.split('.');
    const forged = b64({ sub: 'someone-else', name: 'mallory', exp: nowSeconds() + 600 });
    expect(issuer.verify(`${header}.${forged}.${signature}`)).toBeNull();
  });

  it('reports an expired token as expired: genuine claims with an expiry in the past', () => {
    // verify() deliberately keeps the claims of an expired token (so callers can answer
    // "expired" instead of "unknown"); access control checks `expiresAt`.
    const exp = nowSeconds() - 60;
    const expired = jwt.sign({ name: user.username, sub: user.id, exp }, SECRET, {
      algorithm: 'HS256',
    });
    const claims = issuer.verify(expired);
    expect(claims).toEqual({ user, expiresAt: exp * 1000 });
    expect(claims?.expiresAt).toBeLessThan(Date.now());
    // An expired token is still checked for its signature.
    const forged = jwt.sign({ name: user.username, sub: user.id, exp }, 'not-the-secret', {
      algorithm: 'HS256',
    });
    expect(issuer.verify(forged)).toBeNull();
  });

  it('rejects an unsigned alg "none" token', () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
      sub: user.id,
      name: user.username,
      exp: nowSeconds() + 600,
    })}.`;
    expect(jwt.decode(token)).toMatchObject({ sub: user.id });
    expect(issuer.verify(token)).toBeNull();
  });

  it('rejects a token signed with another HMAC algorithm', () => {
    const token = jwt.sign({ name: user.username }, SECRET, {
      algorithm: 'HS512',
      subject: user.id,
      expiresIn: 600,
    });
    expect(issuer.verify(token)).toBeNull();
  });

  it('rejects a token signed with a different secret', () => {
    const other = new TokenIssuer('another-secret-that-is-also-long-enough', 900);
    expect(issuer.verify(other.issue(user).token)).toBeNull();
    expect(other.verify(issuer.issue(user).token)).toBeNull();
  });

  it('rejects a validly signed token that lacks the claims', () => {
    const noName = jwt.sign({}, SECRET, { algorithm: 'HS256', subject: user.id, expiresIn: 60 });
    const noSubject = jwt.sign({ name: 'alice' }, SECRET, { algorithm: 'HS256', expiresIn: 60 });
    const noExpiry = jwt.sign({ name: 'alice' }, SECRET, { algorithm: 'HS256', subject: user.id });
    expect(issuer.verify(noName)).toBeNull();
    expect(issuer.verify(noSubject)).toBeNull();
    expect(issuer.verify(noExpiry)).toBeNull();
  });

  it('returns null for missing or malformed tokens', () => {
    expect(issuer.verify(undefined)).toBeNull();
    expect(issuer.verify(null)).toBeNull();
    expect(issuer.verify('')).toBeNull();
    expect(issuer.verify('not-a-jwt')).toBeNull();
    expect(issuer.verify('a.b.c')).toBeNull();
  });
});
