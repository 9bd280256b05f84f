import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/domain/passwords.js';

describe('passwords', () => {
  it('hashes with argon2id and a random salt', async () => {
    const first = await hashPassword('correct horse battery');
    const second = await hashPassword('correct horse battery');
    expect(first.startsWith('$argon2id$')).toBe(true);
    expect(first).not.toContain('correct horse battery');
    expect(first).not.toBe(second);
  });

  it('uses at least the OWASP baseline parameters', async () => {
    const hash = await hashPassword('correct horse battery');
    const params = /\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash);
    expect(params).not.toBeNull();
    const [, memory, passes] = params?.map(Number) ?? [];
    expect(memory).toBeGreaterThanOrEqual(19_456);
    expect(passes).toBeGreaterThanOrEqual(2);
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const hash = await hashPassword('correct horse battery');
    await expect(verifyPassword(hash, 'correct horse battery')).resolves.toBe(true);
    await expect(verifyPassword(hash, 'correct horse battery ')).resolves.toBe(false);
    await expect(verifyPassword(hash, 'Correct horse battery')).resolves.toBe(false);
    await expect(verifyPassword(hash, '')).resolves.toBe(false);
  });

  it('returns false for a malformed hash instead of throwing', async () => {
    await expect(verifyPassword('', 'whatever')).resolves.toBe(false);
    await expect(verifyPassword('not a hash', 'whatever')).resolves.toBe(false);
    await expect(verifyPassword('$argon2id$v=19$m=19456,t=2,p=1$', 'whatever')).resolves.toBe(
      false,
    );
  });
});
