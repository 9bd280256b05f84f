import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { SignInThrottle } from '../../src/domain/signInThrottle.js';
import { manualClock } from '../helpers/clock.js';

const limits = {
  failuresPerAccount: { burst: 3, perSecond: 1 / 60 },
  failuresPerAddress: { burst: 5, perSecond: 1 / 60 },
};

/** What `begin` answers: 'ok', or the refusal's message. */
function attempt(throttle: SignInThrottle, account: string, address: string) {
  try {
    return { outcome: 'ok' as const, attempt: throttle.begin(account, address) };
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== 'TOO_MANY_REQUESTS') throw error;
    return { outcome: error.message, attempt: null };
  }
}
const fail = (throttle: SignInThrottle, account: string, address: string) =>
  attempt(throttle, account, address).outcome;
const succeed = (throttle: SignInThrottle, account: string, address: string) => {
  const result = attempt(throttle, account, address);
  result.attempt?.release();
  if (result.attempt) throttle.remember(account, address);
  return result.outcome;
};

const ACCOUNT = 'Too many failed sign-ins for this account; wait a few minutes and try again';
const ADDRESS = 'Too many failed sign-ins from your network; wait a few minutes and try again';

describe('SignInThrottle', () => {
  it('lets successes through without spending anything', () => {
    const throttle = new SignInThrottle(limits, manualClock().now);
    for (let i = 0; i < 100; i++) expect(succeed(throttle, 'ada', '10.0.0.1')).toBe('ok');
    expect([1, 2, 3].map(() => fail(throttle, 'ada', '10.0.0.1'))).toEqual(['ok', 'ok', 'ok']);
  });

  it('refuses an account after its failures, from every address, until it refills', () => {
    const time = manualClock();
    const throttle = new SignInThrottle(limits, time.now);
    expect([1, 2, 3, 4].map(() => fail(throttle, 'ada', '10.0.0.1'))).toEqual([
      'ok',
      'ok',
      'ok',
      ACCOUNT,
    ]);
    expect(succeed(throttle, 'ada', '10.0.0.2')).toBe(ACCOUNT);
    time.advance(60_000);
    expect(succeed(throttle, 'ada', '10.0.0.2')).toBe('ok');
  });

  it('refuses an address after failures across accounts, except for accounts known there', () => {
    const throttle = new SignInThrottle(limits, manualClock().now);
    expect(succeed(throttle, 'regular', '10.0.0.1')).toBe('ok');
    const sprayed = ['a', 'b', 'c', 'd', 'e', 'f'].map((account) =>
      fail(throttle, account, '10.0.0.1'),
    );
    expect(sprayed).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', ADDRESS]);
    expect(succeed(throttle, 'regular', '10.0.0.1')).toBe('ok');
    expect(succeed(throttle, 'stranger', '10.0.0.1')).toBe(ADDRESS);
    expect(succeed(throttle, 'stranger', '10.0.0.9')).toBe('ok');
  });

  it('does not spend the account when the address refuses', () => {
    const throttle = new SignInThrottle(limits, manualClock().now);
    for (const account of ['a', 'b', 'c', 'd', 'e']) fail(throttle, account, '10.0.0.1');
    for (let i = 0; i < 10; i++) expect(fail(throttle, 'victim', '10.0.0.1')).toBe(ADDRESS);
    expect(succeed(throttle, 'victim', '10.0.0.2')).toBe('ok');
    expect([1, 2, 3, 4].map(() => fail(throttle, 'victim', '10.0.0.2'))).toEqual([
      'ok',
      'ok',
      'ok',
      ACCOUNT,
    ]);
  });

  it('remembers a bounded number of known pairs, forgetting the least recently seen', () => {
    const throttle = new SignInThrottle(limits, manualClock().now, 2);
    for (const account of ['old', 'kept', 'new']) succeed(throttle, account, '10.0.0.1');
    succeed(throttle, 'kept', '10.0.0.1'); // seen again: now the most recent
    succeed(throttle, 'newest', '10.0.0.1'); // over the bound: 'new' is forgotten
    for (const account of ['a', 'b', 'c', 'd', 'e']) fail(throttle, account, '10.0.0.1');
    expect(['old', 'new', 'kept', 'newest'].map((a) => succeed(throttle, a, '10.0.0.1'))).toEqual([
      ADDRESS,
      ADDRESS,
      'ok',
      'ok',
    ]);
  });

  it('reserves before checking: concurrent attempts cannot share one remaining failure', () => {
    const throttle = new SignInThrottle(limits, manualClock().now);
    const pending = [1, 2, 3, 4, 5].map(() => attempt(throttle, 'ada', '10.0.0.1'));
    expect(pending.map((p) => p.outcome)).toEqual(['ok', 'ok', 'ok', ACCOUNT, ACCOUNT]);
    // The two that were checked and right give their reservation back; the third failed.
    pending[0]?.attempt?.release();
    pending[1]?.attempt?.release();
    pending[1]?.attempt?.release(); // releasing twice gives back once
    expect([1, 2, 3].map(() => fail(throttle, 'ada', '10.0.0.1'))).toEqual(['ok', 'ok', ACCOUNT]);
  });
});
