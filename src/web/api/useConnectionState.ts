import type { TRPCWebSocketClient } from '@trpc/client';
import { useEffect, useState } from 'react';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** The chat socket's state in words a person understands. */
export function useConnectionState(socket: TRPCWebSocketClient): ConnectionState {
  const [state, setState] = useState<ConnectionState>('connecting');
  useEffect(() => {
    let everConnected = false;
    const show = (value: ReturnType<typeof socket.connectionState.get>) => {
      if (!navigator.onLine) return setState('offline');
      if (value.state === 'pending') {
        everConnected = true;
        setState('connected');
      } else if (value.state === 'connecting') {
        setState(everConnected || value.error ? 'reconnecting' : 'connecting');
      }
    };
    const subscription = socket.connectionState.subscribe({ next: show });
    const offline = () => setState('offline');
    // Back online: the socket may never have dropped, so show its actual state.
    const online = () => show(socket.connectionState.get());
    window.addEventListener('offline', offline);
    window.addEventListener('online', online);
    return () => {
      subscription.unsubscribe();
      window.removeEventListener('offline', offline);
      window.removeEventListener('online', online);
    };
  }, [socket]);
  return state;
}
