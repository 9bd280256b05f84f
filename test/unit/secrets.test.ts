import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveJwtSecret } from '../../src/secrets.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chathub-secrets-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveJwtSecret', () => {
  it('generates a strong secret in a 0600 file and reuses it on the next start', () => {
    const dataDir = join(dir, 'nested', 'data');
    const secret = resolveJwtSecret(undefined, dataDir, false);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const file = join(dataDir, 'jwt-secret');
    expect(readFileSync(file, 'utf8')).toBe(secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(resolveJwtSecret(undefined, dataDir, false)).toBe(secret);
  });

  it('generates a different secret for a different data dir', () => {
    const a = resolveJwtSecret(undefined, join(dir, 'a'), false);
    const b = resolveJwtSecret(undefined, join(dir, 'b'), false);
    expect(a).not.toBe(b);
  });

  it('reads an existing secret file, ignoring surrounding whitespace', () => {
    writeFileSync(join(dir, 'jwt-secret'), '  kept-secret-from-an-earlier-start-0123456789\n');
    expect(resolveJwtSecret(undefined, dir, false)).toBe(
      'kept-secret-from-an-earlier-start-0123456789',
    );
  });

  it('prefers a configured secret and writes no file', () => {
    const configured = 'configured-secret-that-is-long-enough-123';
    expect(resolveJwtSecret(configured, dir, false)).toBe(configured);
    expect(resolveJwtSecret(configured, dir, true)).toBe(configured);
    expect(() => statSync(join(dir, 'jwt-secret'))).toThrow();
  });

  it('refuses to run in production without a configured secret', () => {
    expect(() => resolveJwtSecret(undefined, dir, true)).toThrow(/JWT_SECRET/);
    // …even when a generated file from a development run exists.
    resolveJwtSecret(undefined, dir, false);
    expect(() => resolveJwtSecret(undefined, dir, true)).toThrow(/JWT_SECRET/);
  });

  it('refuses an empty or truncated secret file instead of signing with it', () => {
    writeFileSync(join(dir, 'jwt-secret'), 'short\n');
    expect(() => resolveJwtSecret(undefined, dir, false)).toThrow(
      /jwt-secret holds no usable secret/,
    );
  });

  it('leaves no temporary file behind', () => {
    resolveJwtSecret(undefined, dir, false);
    expect(readdirSync(dir)).toEqual(['jwt-secret']);
  });
});
