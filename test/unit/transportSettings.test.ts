import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { TRANSPORT_DEFAULTS } from '../../src/limits.js';

describe('chat socket settings', () => {
  it('default to the transport’s own limits', () => {
    expect(loadConfig({})).toMatchObject({
      WS_AUTH_TIMEOUT: TRANSPORT_DEFAULTS.authTimeoutMs / 1000,
      WS_MAX_CONNECTIONS_PER_ADDRESS: TRANSPORT_DEFAULTS.maxConnectionsPerAddress,
      WS_MAX_CONNECTIONS_PER_USER: TRANSPORT_DEFAULTS.maxConnectionsPerUser,
    });
  });

  it('read durations and counts', () => {
    expect(
      loadConfig({
        WS_AUTH_TIMEOUT: '2m',
        WS_MAX_CONNECTIONS_PER_ADDRESS: '50',
        WS_MAX_CONNECTIONS_PER_USER: '3',
      }),
    ).toMatchObject({
      WS_AUTH_TIMEOUT: 120,
      WS_MAX_CONNECTIONS_PER_ADDRESS: 50,
      WS_MAX_CONNECTIONS_PER_USER: 3,
    });
  });

  it.each([
    ['WS_AUTH_TIMEOUT', '0s'],
    ['WS_AUTH_TIMEOUT', 'soon'],
    // Past setTimeout's reach it would fire at once and close every connection.
    ['WS_AUTH_TIMEOUT', '30d'],
    ['WS_MAX_CONNECTIONS_PER_ADDRESS', '0'],
    ['WS_MAX_CONNECTIONS_PER_USER', '2.5'],
  ])('refuse %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
