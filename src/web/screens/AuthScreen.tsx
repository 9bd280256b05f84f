import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { describeError, type ErrorDetails } from '../../client/errors.js';
import { LIMITS } from '../../contract/limits.js';
import { trpc } from '../api/trpc.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import type { SessionStore } from '../session/sessionStore.js';

type Mode = 'signIn' | 'signUp';

export function AuthScreen({
  sessions,
  notice,
}: {
  sessions: SessionStore;
  notice: string | null;
}) {
  const [mode, setMode] = useState<Mode>('signIn');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [failure, setFailure] = useState<ErrorDetails | null>(null);
  const signUp = trpc.auth.signUp.useMutation();
  const signIn = trpc.auth.signIn.useMutation();
  const busy = signUp.isPending || signIn.isPending;
  const ids = { username: useId(), password: useId() };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    try {
      if (mode === 'signUp') await signUp.mutateAsync({ username, password });
      const { chatUrl: _chatUrl, ...session } = await signIn.mutateAsync({ username, password });
      sessions.signIn(session);
    } catch (error) {
      setFailure(describeError(error));
    }
  };

  const switchTo = (next: Mode) => {
    setMode(next);
    setFailure(null);
  };
  const fieldError = (field: 'username' | 'password') => failure?.fieldErrors[field]?.[0] ?? null;
  const generalError =
    failure && !fieldError('username') && !fieldError('password') ? failure.message : null;

  return (
    <main className="auth">
      <section className="auth-card" aria-labelledby="auth-title">
        <p className="auth-brand">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          ChatHub
        </p>
        <h1 id="auth-title">{mode === 'signIn' ? 'Sign in' : 'Create your account'}</h1>
        <p className="muted">Real-time rooms where the best messages rise to the top.</p>
        {notice ? (
          <p className="notice" role="status">
            {notice}
          </p>
        ) : null}
        <div className="tabs" role="tablist" aria-label="Account">
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'signIn'}
            onClick={() => switchTo('signIn')}
          >
            Sign in
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === 'signUp'}
            onClick={() => switchTo('signUp')}
          >
            Sign up
          </button>
        </div>
        <form className="form" onSubmit={submit} noValidate>
          <Field
            id={ids.username}
            label="Username"
            error={fieldError('username')}
            hint={mode === 'signUp' ? 'Letters, digits, "_", "." and "-"' : null}
          >
            <input
              id={ids.username}
              name="username"
              autoComplete="username"
              value={username}
              maxLength={LIMITS.usernameMax}
              onChange={(event) => setUsername(event.target.value)}
              aria-invalid={fieldError('username') ? true : undefined}
              aria-describedby={`${ids.username}-message`}
              required
            />
          </Field>
          <Field
            id={ids.password}
            label="Password"
            error={fieldError('password')}
            hint={mode === 'signUp' ? `At least ${LIMITS.passwordMin} characters` : null}
          >
            <input
              id={ids.password}
              name="password"
              type="password"
              autoComplete={mode === 'signIn' ? 'current-password' : 'new-password'}
              value={password}
              maxLength={LIMITS.passwordMax}
              onChange={(event) => setPassword(event.target.value)}
              aria-invalid={fieldError('password') ? true : undefined}
              aria-describedby={`${ids.password}-message`}
              required
            />
          </Field>
          <ErrorBanner message={generalError} />
          <button type="submit" className="button button-primary" disabled={busy}>
            {mode === 'signIn' ? 'Sign in' : 'Create account'}
          </button>
        </form>
      </section>
    </main>
  );
}

function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error: string | null;
  hint: string | null;
  children: ReactNode;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      <p id={`${id}-message`} className={error ? 'field-error' : 'field-hint'}>
        {error ?? hint ?? ''}
      </p>
    </div>
  );
}
