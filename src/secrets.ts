import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SECRET_FILE = 'jwt-secret';
const MIN_SECRET_LENGTH = 32;

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
  const existing = readSecretFile(file);
  if (existing !== null) return existing;

  mkdirSync(dataDir, { recursive: true });
  // Written whole under a temporary name, then linked in: no process ever reads half a secret,
  // and of two processes starting at once, the second adopts the first one's secret.
  const temp = `${file}.${process.pid}.tmp`;
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(temp, secret, { mode: 0o600 });
  try {
    linkSync(temp, file);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readSecretFile(file) ?? secret;
  } finally {
    unlinkSync(temp);
  }
}

function readSecretFile(file: string): string | null {
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`${file} holds no usable secret: delete it to generate one, or set JWT_SECRET`);
  }
  return secret;
}
