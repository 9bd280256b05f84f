import type { PublicUser } from '../../contract/models.js';

/**
 * Who is online in the room, in the server's (name) order, with the reader and the room's owner
 * marked. The server names at most `LIMITS.presenceNamesMax`; the rest are counted.
 */
export function OnlinePanel({
  id,
  online,
  users,
  readerId,
  ownerId,
  onClose,
}: {
  id: string;
  online: number;
  users: readonly PublicUser[];
  readerId: string;
  ownerId: string | null;
  onClose: () => void;
}) {
  const unnamed = Math.max(0, online - users.length);
  return (
    <aside id={id} className="online-panel" aria-labelledby={`${id}-title`}>
      <div className="online-panel-header">
        <h2 id={`${id}-title`}>Online · {online}</h2>
        <button
          type="button"
          className="button button-quiet"
          aria-label="Close the list of people online"
          onClick={onClose}
        >
          ×
        </button>
      </div>
      <ul className="online-users" aria-label="People online">
        {users.map((user) => (
          <li key={user.id}>
            <span className="presence-dot" aria-hidden="true" />
            <span className="online-name" title={user.username}>
              {user.username}
            </span>
            {user.id === readerId ? <span className="badge">You</span> : null}
            {user.id === ownerId ? <span className="badge badge-owner">Owner</span> : null}
          </li>
        ))}
      </ul>
      {unnamed > 0 ? <p className="muted online-more">and {unnamed} more</p> : null}
    </aside>
  );
}
