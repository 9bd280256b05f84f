import type { ConnectionState } from '../api/useConnectionState.js';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

export function ConnectionBadge({ state }: { state: ConnectionState }) {
  return (
    <span className={`connection connection-${state}`} role="status" data-testid="connection">
      <span className="connection-dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
