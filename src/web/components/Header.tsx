import type { PublicUser } from '../../contract/models.js';

export function Header({ user, onSignOut }: { user: PublicUser; onSignOut: () => void }) {
  return (
    <header className="header">
      <a className="brand" href="/">
        <span className="brand-mark" aria-hidden="true">
          ◆
        </span>
        ChatHub
      </a>
      <div className="header-user">
        <span>
          <span className="signed-in-label">Signed in as </span>
          <strong>{user.username}</strong>
        </span>
        <button type="button" className="button button-quiet" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
