import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRouter } from '../../src/api/router.js';
import { failure } from '../helpers/errors.js';
import { inParallel } from '../helpers/parallel.js';
import { type ServerProcess, spawnServer } from '../helpers/process.js';
import { PASSWORD, startTestServer, TEST_SECRET, uniqueName } from '../helpers/server.js';

/*
 * One server process on the shipped defaults, behind what it believes is a proxy, so that each
 * test can call from its own addresses (X-Forwarded-For). Defaults: failed sign-ins 10 per
 * account then 1 a minute, 100 per address then 10 a minute; sign-ups 500 per address.
 */
let server: ServerProcess;
let apiUrl = '';
const dataDir = mkdtempSync(join(tmpdir(), 'chathub-throttle-'));

beforeAll(async () => {
  server = await spawnServer({ DATA_DIR: dataDir, JWT_SECRET: TEST_SECRET, TRUST_PROXY: 'true' });
  apiUrl = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The stock client, calling from `address`. */
function from(address: string) {
  return createTRPCClient<ApiRouter>({
    links: [httpLink({ url: `${apiUrl}/trpc`, headers: { 'x-forwarded-for': address } })],
  });
}

const WRONG = { code: 'UNAUTHORIZED', message: 'Wrong username or password' };
const ACCOUNT_THROTTLED = {
  code: 'TOO_MANY_REQUESTS',
  message: 'Too many failed sign-ins for this account; wait a few minutes and try again',
};
const ADDRESS_THROTTLED = {
  code: 'TOO_MANY_REQUESTS',
  message: 'Too many failed sign-ins from your network; wait a few minutes and try again',
};

/** What a token bucket lets through in `elapsedMs`: its burst and what refilled meanwhile. */
function allowance(burst: number, perMinute: number, elapsedMs: number): number {
  return burst + Math.floor((perMinute * elapsedMs) / 60_000);
}

const count = (
  results: { code: string; message: string }[],
  like: { code: string; message: string },
) =>
  results.filter((result) => result.code === like.code && result.message === like.message).length;

describe('sign-in throttling on the default limits', () => {
  it('lets 300 people sign up and sign in from one address, typos included', async () => {
    const venue = from('198.51.100.1');
    const names = Array.from({ length: 300 }, (_, i) => uniqueName(`guest${i}x`));
    const users = await inParallel(names, 8, (username) =>
      venue.auth.signUp.mutate({ username, password: PASSWORD }),
    );
    expect(users.map((user) => user.username)).toEqual(names);
    // One in ten mistypes their password first.
    const typos = await inParallel(names.slice(0, 30), 8, (username) =>
      failure(venue.auth.signIn.mutate({ username, password: 'correct horse batery' })),
    );
    expect(typos).toEqual(typos.map(() => WRONG));
    const sessions = await inParallel(names, 8, (username) =>
      venue.auth.signIn.mutate({ username, password: PASSWORD }),
    );
    expect(sessions.map((session) => session.user.username)).toEqual(names);
  }, 300_000);

  it('throttles a guesser on one account from every address, the right password included', async () => {
    const home = from('198.51.100.2');
    const victim = uniqueName('victim');
    await home.auth.signUp.mutate({ username: victim, password: PASSWORD });

    const guesser = from('203.0.113.7');
    const started = Date.now();
    // All at once: each reserves its attempt before any password is checked.
    const guesses = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        failure(guesser.auth.signIn.mutate({ username: victim, password: `guess number ${i}` })),
      ),
    );
    const allowed = allowance(10, 1, Date.now() - started);
    expect(count(guesses, WRONG)).toBe(Math.min(allowed, 15));
    expect(count(guesses, ACCOUNT_THROTTLED)).toBe(15 - Math.min(allowed, 15));

    // The account waits for its budget to refill, whoever asks and whatever the password.
    expect(
      await failure(
        home.auth.signIn.mutate({ username: victim.toUpperCase(), password: PASSWORD }),
      ),
    ).toEqual(ACCOUNT_THROTTLED);
    // The guesser's address is not throttled for other accounts.
    const bystander = uniqueName('bystander');
    await home.auth.signUp.mutate({ username: bystander, password: PASSWORD });
    const session = await guesser.auth.signIn.mutate({ username: bystander, password: PASSWORD });
    expect(session.user.username).toBe(bystander);
  });

  it('throttles a guesser spraying many accounts from one address; known accounts still get in', async () => {
    const shared = from('203.0.113.66');
    // Someone on the same network signed up from it before the spraying started.
    const regular = uniqueName('regular');
    await shared.auth.signUp.mutate({ username: regular, password: PASSWORD });
    // Someone who has never used this network.
    const visitor = uniqueName('visitor');
    await from('198.51.100.9').auth.signUp.mutate({ username: visitor, password: PASSWORD });

    const targets = Array.from({ length: 110 }, (_, i) => uniqueName(`target${i}x`));
    const started = Date.now();
    const sprayed = await inParallel(targets, 10, (username) =>
      failure(shared.auth.signIn.mutate({ username, password: 'Summer2024!' })),
    );
    const allowed = Math.min(allowance(100, 10, Date.now() - started), targets.length);
    expect(count(sprayed, WRONG)).toBe(allowed);
    expect(count(sprayed, ADDRESS_THROTTLED)).toBe(targets.length - allowed);
    expect(count(sprayed, ADDRESS_THROTTLED)).toBeGreaterThan(0);

    // Decided: a throttled address still signs in accounts that signed up or in from it before…
    const session = await shared.auth.signIn.mutate({ username: regular, password: PASSWORD });
    expect(session.user.username).toBe(regular);
    // …but answers nothing about any other account, not even to the right password: otherwise
    // the throttle would stop no one. The visitor gets in from anywhere else.
    expect(
      await failure(shared.auth.signIn.mutate({ username: visitor, password: PASSWORD })),
    ).toEqual(ADDRESS_THROTTLED);
    const elsewhere = await from('198.51.100.10').auth.signIn.mutate({
      username: visitor,
      password: PASSWORD,
    });
    expect(elsewhere.user.username).toBe(visitor);
    // Sign-ups have their own budget.
    const newcomer = uniqueName('newcomer');
    await expect(
      shared.auth.signUp.mutate({ username: newcomer, password: PASSWORD }),
    ).resolves.toMatchObject({ username: newcomer });
  }, 120_000);
});

describe('sign-up throttling', () => {
  it('refuses sign-ups from one address past its own budget, leaving sign-ins alone', async () => {
    const limited = await startTestServer({
      SIGNUPS_PER_ADDRESS_BURST: '5',
      SIGNUPS_PER_ADDRESS_PER_MINUTE: '0.01',
    });
    try {
      const api = createTRPCClient<ApiRouter>({
        links: [httpLink({ url: `${limited.apiUrl}/trpc` })],
      });
      const names = Array.from({ length: 5 }, () => uniqueName('early'));
      for (const username of names) await api.auth.signUp.mutate({ username, password: PASSWORD });
      expect(
        await failure(api.auth.signUp.mutate({ username: uniqueName('late'), password: PASSWORD })),
      ).toEqual({
        code: 'TOO_MANY_REQUESTS',
        message: 'Too many sign-ups from your network; try again in a few minutes',
      });
      for (const username of names) {
        await expect(
          api.auth.signIn.mutate({ username, password: PASSWORD }),
        ).resolves.toMatchObject({ user: { username } });
      }
    } finally {
      await limited.stop();
    }
  });
});
