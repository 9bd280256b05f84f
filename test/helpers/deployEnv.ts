import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The committed per-role environment in deploy/env/: `common.env` for every ChatHub process, and
 * `api.env` / `chat.env` for each role. docker-compose.yml (env_file), the Kubernetes ConfigMap
 * generator (deploy/kustomization.yaml) and the topology test all read these files, so the test
 * runs the servers with the settings the deployments use.
 */
export const DEPLOY_ENV_DIR = fileURLToPath(new URL('../../deploy/env/', import.meta.url));

export type DeployRole = 'api' | 'chat';

const LINE = /^([A-Z][A-Z0-9_]*)=(.*)$/;

/**
 * Parses the subset of the dotenv format that compose, kustomize and this test read alike:
 * `KEY=VALUE` lines, blank lines and whole-line `#` comments. Anything else (quotes, `${...}`,
 * inline comments, `export`) is an error, because the three readers would disagree on it.
 */
export function parseEnvFile(text: string, name = 'env file'): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    const where = `${name}:${index + 1}`;
    if (!match) throw new Error(`${where}: expected KEY=VALUE, got ${JSON.stringify(raw)}`);
    const [, key = '', value = ''] = match;
    if (/["'`$\\\s]/.test(value)) {
      throw new Error(`${where}: ${key} must be a plain value (no quotes, $, spaces or comments)`);
    }
    if (key in env) throw new Error(`${where}: ${key} is set twice`);
    env[key] = value;
  }
  return env;
}

export function readEnvFile(file: string): Record<string, string> {
  return parseEnvFile(readFileSync(join(DEPLOY_ENV_DIR, file), 'utf8'), file);
}

/** The environment the deployments give a process of this role: common.env, then <role>.env. */
export function roleEnv(role: DeployRole): Record<string, string> {
  return { ...readEnvFile('common.env'), ...readEnvFile(`${role}.env`) };
}
