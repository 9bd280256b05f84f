import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { isUnauthorized } from '../client/errors.js';
import type { Session } from '../contract/models.js';
import { type Clients, createClients, trpc } from './api/trpc.js';
import { Header } from './components/Header.js';
import { parseRoute, usePathname } from './router.js';
import { AuthScreen } from './screens/AuthScreen.js';
import { RoomScreen } from './screens/RoomScreen.js';
import { RoomsScreen } from './screens/RoomsScreen.js';
import {
  createSessionStore,
  EXPIRED_NOTICE,
  type SessionState,
  type SessionStore,
} from './session/sessionStore.js';
import { useSessionRefresh } from './session/useSessionRefresh.js';

export function App() {
  const [sessions] = useState(() => createSessionStore());
  const state = useSyncExternalStore(sessions.subscribe, sessions.get);
  // Keyed by user: signing in as someone else starts from an empty cache and a fresh socket.
  return (
    <UserScope key={state.session?.user.id ?? 'signed-out'} sessions={sessions} state={state} />
  );
}

function UserScope({ sessions, state }: { sessions: SessionStore; state: SessionState }) {
  const [queryClient] = useState(() => {
    const expireOn = (error: unknown) => {
      if (isUnauthorized(error) && sessions.get().session) sessions.signOut(EXPIRED_NOTICE);
    };
    return new QueryClient({
      queryCache: new QueryCache({ onError: expireOn }),
      mutationCache: new MutationCache({ onError: expireOn }),
      defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } },
    });
  });
  const [clients] = useState(() => createClients(sessions));
  useEffect(() => () => void clients.socket.close(), [clients]);

  return (
    <trpc.Provider client={clients.trpc} queryClient={queryClient}>
      <QueryClientProvider client={queryClient}>
        {state.session ? (
          <SignedIn session={state.session} sessions={sessions} socket={clients.socket} />
        ) : (
          <AuthScreen sessions={sessions} notice={state.notice} />
        )}
      </QueryClientProvider>
    </trpc.Provider>
  );
}

function SignedIn({
  session,
  sessions,
  socket,
}: {
  session: Session;
  sessions: SessionStore;
  socket: Clients['socket'];
}) {
  useSessionRefresh(sessions, session.expiresAt);
  const route = parseRoute(usePathname());
  return (
    <div className="app">
      <Header user={session.user} onSignOut={() => sessions.signOut()} />
      <main className="main">
        {route.name === 'room' ? (
          <RoomScreen roomId={route.roomId} user={session.user} socket={socket} />
        ) : (
          <RoomsScreen />
        )}
      </main>
    </div>
  );
}
