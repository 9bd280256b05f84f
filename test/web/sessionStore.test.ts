// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import { createSessionStore, EXPIRED_NOTICE } from '../../src/web/session/sessionStore.js';

const session = (expiresAt: number) => ({
  token: 't',
  expiresAt,
  user: { id: 'u', username: 'ada' },
});

beforeEach(() => window.localStorage.clear());

describe('the session store', () => {
  it('keeps a session across reloads until sign-out', () => {
    createSessionStore(window.localStorage, () => 1_000).signIn(session(5_000));
    const reloaded = createSessionStore(window.localStorage, () => 2_000);
    expect(reloaded.get()).toEqual({ session: session(5_000), notice: null });
    reloaded.signOut();
    expect(createSessionStore(window.localStorage, () => 2_000).get().session).toBeNull();
  });

  it('drops an expired session on load and says why', () => {
    createSessionStore(window.localStorage, () => 1_000).signIn(session(5_000));
    expect(createSessionStore(window.localStorage, () => 6_000).get()).toEqual({
      session: null,
      notice: EXPIRED_NOTICE,
    });
    expect(window.localStorage.length).toBe(0);
  });

  it('ignores storage that is not a session', () => {
    window.localStorage.setItem('chathub.session', '{"token":42}');
    expect(createSessionStore(window.localStorage).get().session).toBeNull();
  });
});
