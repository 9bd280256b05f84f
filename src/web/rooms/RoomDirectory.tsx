import { keepPreviousData } from '@tanstack/react-query';
import { describeError } from '../../client/errors.js';
import { LIMITS } from '../../contract/limits.js';
import type { RoomWithOnline } from '../../contract/models.js';
import { trpc } from '../api/trpc.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { hrefFor, navigate } from '../router.js';

/** How often the online counts of the rooms shown are refreshed. */
const REFRESH_MS = 5_000;

/**
 * The rooms whose names start with `query` (all when empty), a page at a time in name order,
 * with "Load more" for the next page. Every page shown is refreshed, so its counts stay live.
 */
export function RoomDirectory({ query }: { query: string }) {
  const rooms = trpc.rooms.list.useInfiniteQuery(
    { limit: LIMITS.roomPageDefault, query: query || undefined },
    {
      getNextPageParam: (page) => page.nextCursor,
      refetchInterval: REFRESH_MS,
      placeholderData: keepPreviousData,
    },
  );
  const shown = rooms.data?.pages.flatMap((page) => page.rooms) ?? [];

  return (
    <div className="room-directory">
      {rooms.error ? <ErrorBanner message={describeError(rooms.error).message} /> : null}
      {rooms.isPending ? <p className="muted">Loading rooms…</p> : null}
      {rooms.isSuccess && shown.length === 0 ? (
        <p className="muted" role="status">
          {query ? `No room name starts with “${query}”.` : 'There are no rooms yet.'}
        </p>
      ) : null}
      <ul className="room-list" aria-label="Rooms">
        {shown.map((room) => (
          <li key={room.id}>
            <RoomLink room={room} />
          </li>
        ))}
      </ul>
      {rooms.hasNextPage ? (
        <button
          type="button"
          className="button load-more"
          disabled={rooms.isFetchingNextPage}
          onClick={() => void rooms.fetchNextPage()}
        >
          {rooms.isFetchingNextPage ? 'Loading…' : 'Load more rooms'}
        </button>
      ) : null}
    </div>
  );
}

/** The server counts up to its cap; at the cap there may be more. */
export function unreadCount(unread: number): string {
  return unread >= LIMITS.unreadCountMax ? `${LIMITS.unreadCountMax}+` : String(unread);
}

function RoomLink({ room }: { room: RoomWithOnline }) {
  return (
    <a
      className="room-link"
      href={hrefFor({ name: 'room', roomId: room.id })}
      onClick={(event) => {
        event.preventDefault();
        navigate({ name: 'room', roomId: room.id });
      }}
    >
      <span className="room-name"># {room.name}</span>
      <span className="room-link-side">
        {room.online === null ? null : (
          <span className={room.online > 0 ? 'online online-active' : 'online'}>
            {room.online} online
          </span>
        )}
        {room.unread ? (
          <span className="unread" data-testid="unread">
            {unreadCount(room.unread)}
            <span className="visually-hidden"> unread</span>
          </span>
        ) : null}
      </span>
    </a>
  );
}
