import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { rateLimitsFor } from '../../src/services.js';

describe('sign-in, sign-up and room limits in the configuration', () => {
  it('defaults to limits a crowd or a real person never meets', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      SIGNUPS_PER_ADDRESS_BURST: 500,
      SIGNUPS_PER_ADDRESS_PER_MINUTE: 10,
      SIGNIN_FAILURES_PER_ACCOUNT_BURST: 10,
      SIGNIN_FAILURES_PER_ACCOUNT_PER_MINUTE: 1,
      SIGNIN_FAILURES_PER_ADDRESS_BURST: 100,
      SIGNIN_FAILURES_PER_ADDRESS_PER_MINUTE: 10,
      ROOM_CREATES_BURST: 10,
      ROOM_CREATES_PER_MINUTE: 1,
      ROOMS_PER_USER_MAX: 100,
    });
    expect(rateLimitsFor(config)).toMatchObject({
      signUps: { burst: 500, perSecond: 10 / 60 },
      signInFailuresPerAccount: { burst: 10, perSecond: 1 / 60 },
      signInFailuresPerAddress: { burst: 100, perSecond: 10 / 60 },
      roomCreations: { burst: 10, perSecond: 1 / 60 },
    });
  });

  it('takes other values, fractions of a minute included', () => {
    const config = loadConfig({
      SIGNUPS_PER_ADDRESS_BURST: '50',
      ROOM_CREATES_PER_MINUTE: '0.5',
      ROOMS_PER_USER_MAX: '0',
    });
    expect(config).toMatchObject({
      SIGNUPS_PER_ADDRESS_BURST: 50,
      ROOM_CREATES_PER_MINUTE: 0.5,
      ROOMS_PER_USER_MAX: 0,
    });
  });

  it.each([
    ['SIGNUPS_PER_ADDRESS_BURST', '0'],
    ['SIGNIN_FAILURES_PER_ACCOUNT_BURST', '2.5'],
    ['SIGNIN_FAILURES_PER_ADDRESS_PER_MINUTE', '0'],
    ['ROOM_CREATES_PER_MINUTE', '-1'],
    ['ROOMS_PER_USER_MAX', 'lots'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`\\b${variable}\\b`));
  });

  it('refuses the replaced AUTH_ATTEMPTS_* settings, naming what replaced them', () => {
    for (const variable of ['AUTH_ATTEMPTS_BURST', 'AUTH_ATTEMPTS_PER_MINUTE']) {
      expect(() => loadConfig({ [variable]: '10' })).toThrow(ConfigError);
      expect(() => loadConfig({ [variable]: '10' })).toThrow(
        `${variable}: no longer exists; it was replaced by SIGNUPS_PER_ADDRESS_* and SIGNIN_FAILURES_PER_*`,
      );
    }
  });
});
