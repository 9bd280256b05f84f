import { useEffect, useState } from 'react';
import { describeError } from '../../client/errors.js';
import { trpc } from '../api/trpc.js';
import { EXPIRED_NOTICE, type SessionStore } from './sessionStore.js';

const RETRY_MS = 10_000;

/**
 * Renews the token when 80% of its life has passed. A refused renewal (or one that comes too
 * late) signs the user out with a notice; a network failure is retried.
 */
export function useSessionRefresh(sessions: SessionStore, expiresAt: number): void {
  const { mutateAsync } = trpc.auth.refresh.useMutation();
  const [failures, setFailures] = useState(0);
  useEffect(() => {
    const delay = failures > 0 ? RETRY_MS : Math.max(1_000, (expiresAt - Date.now()) * 0.8);
    const timer = window.setTimeout(async () => {
      try {
        sessions.signIn(await mutateAsync());
        setFailures(0);
      } catch (error) {
        if (describeError(error).code === 'UNAUTHORIZED' || expiresAt <= Date.now()) {
          sessions.signOut(EXPIRED_NOTICE);
        } else {
          setFailures((count) => count + 1);
        }
      }
    }, delay);
    return () => window.clearTimeout(timer);
  }, [sessions, expiresAt, failures, mutateAsync]);
}
