import type { Session } from '../../contract/models.js';

const STORAGE_KEY = 'chathub.session';

export const EXPIRED_NOTICE = 'Your session has expired; sign in again';

export interface SessionState {
  session: Session | null;
  /** Why the user is looking at the sign-in screen, when it was not their choice. */
  notice: string | null;
}

type Listener = () => void;

/**
 * The signed-in session, kept in localStorage so a reload stays signed in. A small external
 * store rather than React state, because tRPC links read the token outside React.
 */
export function createSessionStore(storage: Storage = window.localStorage, now = Date.now) {
  const listeners = new Set<Listener>();
  let state: SessionState = restore();

  function restore(): SessionState {
    const stored = parse(storage.getItem(STORAGE_KEY));
    if (!stored) return { session: null, notice: null };
    if (stored.expiresAt <= now()) {
      storage.removeItem(STORAGE_KEY);
      return { session: null, notice: EXPIRED_NOTICE };
    }
    return { session: stored, notice: null };
  }

  function set(next: SessionState): void {
    state = next;
    if (next.session) storage.setItem(STORAGE_KEY, JSON.stringify(next.session));
    else storage.removeItem(STORAGE_KEY);
    for (const listener of listeners) listener();
  }

  return {
    get: (): SessionState => state,
    token: (): string | null => state.session?.token ?? null,
    signIn: (session: Session) => set({ session, notice: null }),
    signOut: (notice: string | null = null) => set({ session: null, notice }),
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;

function parse(raw: string | null): Session | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<Session>;
    const valid =
      typeof value.token === 'string' &&
      typeof value.expiresAt === 'number' &&
      typeof value.user?.id === 'string' &&
      typeof value.user.username === 'string';
    return valid ? (value as Session) : null;
  } catch {
    return null;
  }
}
