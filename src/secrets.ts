import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SECRET_FILE = 'jwt-secret';

/**
 * The configured JWT secret, or one generated on first start and kept in the data dir (mode
 * 0600) so sessions survive restarts. Production refuses to run without a configured one,
 * because replicas must share it.
 */
export function resolveJwtSecret(
  configured: string | undefined,
  dataDir: string,
  production: boolean,
): string {
  if (configured) return configured;
  if (production) {
    throw new Error('JWT_SECRET must be set in production (all replicas must share one secret)');
  }
  const file = join(dataDir, SECRET_FILE);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(48).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  return secret;
}
