import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const SECRET = 'x'.repeat(32);

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig', () => {
  it('has working defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      ROLE: 'all',
      PORT: 8080,
      HOST: '0.0.0.0',
      DATA_DIR: './data',
      JWT_TTL: 3600,
      MONGO_RECONNECT_AFTER: 5,
      STORAGE_UNHEALTHY_AFTER: 60,
      TRUST_PROXY: false,
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
    });
    expect(config.JWT_SECRET).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.MONGO_URL).toBeUndefined();
  });

  it('defaults the port by role: 8081 for chat, 8080 otherwise', () => {
    expect(loadConfig({ ROLE: 'chat' }).PORT).toBe(8081);
    expect(loadConfig({ ROLE: 'api' }).PORT).toBe(8080);
    expect(loadConfig({ ROLE: 'all' }).PORT).toBe(8080);
    expect(loadConfig({ ROLE: 'chat', PORT: '9000' }).PORT).toBe(9000);
    expect(loadConfig({ PORT: '0' }).PORT).toBe(0);
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({ PORT: '', ROLE: '', JWT_SECRET: '' });
    expect(config).toMatchObject({ PORT: 8080, ROLE: 'all' });
    expect(config.JWT_SECRET).toBeUndefined();
  });

  it('parses JWT_TTL durations into seconds', () => {
    expect(loadConfig({ JWT_TTL: '15m' }).JWT_TTL).toBe(900);
    expect(loadConfig({ JWT_TTL: '90' }).JWT_TTL).toBe(90);
    expect(loadConfig({ JWT_TTL: '60s' }).JWT_TTL).toBe(60);
    expect(loadConfig({ JWT_TTL: '12h' }).JWT_TTL).toBe(43_200);
    expect(loadConfig({ JWT_TTL: '7d' }).JWT_TTL).toBe(604_800);
  });

  it('parses the storage outage bounds into seconds', () => {
    const config = loadConfig({ MONGO_RECONNECT_AFTER: '5s', STORAGE_UNHEALTHY_AFTER: '2m' });
    expect(config).toMatchObject({ MONGO_RECONNECT_AFTER: 5, STORAGE_UNHEALTHY_AFTER: 120 });
  });

  it('refuses a liveness bound that would restart the server before it tries a new client', () => {
    const error = configError({ MONGO_RECONNECT_AFTER: '30s', STORAGE_UNHEALTHY_AFTER: '30s' });
    expect(error.message).toContain(
      'STORAGE_UNHEALTHY_AFTER: must be longer than MONGO_RECONNECT_AFTER',
    );
  });

  it('accepts a long enough JWT_SECRET and other valid values', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      TRUST_PROXY: 'true',
      PUBLIC_URL: 'wss://chat.example.com/',
      LOG_LEVEL: 'debug',
    });
    expect(config.JWT_SECRET).toBe(SECRET);
    expect(config.TRUST_PROXY).toBe(true);
    expect(config.PUBLIC_URL).toBe('wss://chat.example.com');
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it.each([
    ['ROLE', { ROLE: 'worker' }],
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '80.5' }],
    ['JWT_TTL', { JWT_TTL: 'soon' }],
    ['JWT_TTL', { JWT_TTL: '30s' }],
    ['JWT_TTL', { JWT_TTL: '15 minutes' }],
    ['MONGO_RECONNECT_AFTER', { MONGO_RECONNECT_AFTER: '0s' }],
    ['STORAGE_UNHEALTHY_AFTER', { STORAGE_UNHEALTHY_AFTER: 'never' }],
    ['JWT_SECRET', { JWT_SECRET: 'x'.repeat(31) }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['PUBLIC_URL', { PUBLIC_URL: 'http://chat.example.com' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'maybe' }],
  ])('rejects an invalid %s with a ConfigError naming it', (variable, env) => {
    const error = configError(env);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatch(new RegExp(`\\b${variable}\\b`));
  });

  it('names every invalid variable at once', () => {
    const error = configError({ ROLE: 'nope', PORT: 'nope', JWT_SECRET: 'short' });
    expect(error.message).toMatch(/\bROLE\b/);
    expect(error.message).toMatch(/\bPORT\b/);
    expect(error.message).toMatch(/\bJWT_SECRET\b/);
  });

  it('does not echo the rejected secret', () => {
    const error = configError({ JWT_SECRET: 'tooShortSecretValue' });
    expect(error.message).not.toContain('tooShortSecretValue');
  });
});
