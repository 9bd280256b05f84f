import type { TRPCWebSocketClient } from '@trpc/client';
import { useMemo, useState } from 'react';
import type { PublicUser } from '../../contract/models.js';
import { trpc } from '../api/trpc.js';
import { useConnectionState } from '../api/useConnectionState.js';
import { Composer } from '../chat/Composer.js';
import { MessageList } from '../chat/MessageList.js';
import { type RoomView, topMessages } from '../chat/roomReducer.js';
import { useRoom } from '../chat/useRoom.js';
import { ConnectionBadge } from '../components/ConnectionBadge.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { hrefFor, navigate } from '../router.js';

export function ChatScreen({
  roomId,
  user,
  socket,
}: {
  roomId: string;
  user: PublicUser;
  socket: TRPCWebSocketClient;
}) {
  const room = useRoom(roomId, user.id);
  const connection = useConnectionState(socket);
  const name = trpc.rooms.get.useQuery({ id: roomId }, { staleTime: 60_000 }).data?.name ?? roomId;
  const [view, setView] = useState<RoomView>('latest');
  const shown = useMemo(
    () => (view === 'top' ? topMessages(room.messages) : room.messages),
    [view, room.messages],
  );

  return (
    <section className="chat" aria-labelledby="room-title">
      <div className="chat-header">
        <a
          className="back"
          href={hrefFor({ name: 'rooms' })}
          onClick={(event) => {
            event.preventDefault();
            navigate({ name: 'rooms' });
          }}
        >
          <span aria-hidden="true">←</span> All rooms
        </a>
        <h1 id="room-title"># {name}</h1>
        <span className="online online-active" data-testid="online-count">
          {room.online} online
        </span>
        <ConnectionBadge state={connection} />
      </div>
      <fieldset className="view-switch">
        <legend className="visually-hidden">Order</legend>
        <button type="button" aria-pressed={view === 'latest'} onClick={() => setView('latest')}>
          Latest
        </button>
        <button type="button" aria-pressed={view === 'top'} onClick={() => setView('top')}>
          Top
        </button>
      </fieldset>
      <ErrorBanner message={room.error} onDismiss={room.dismissError} />
      {room.live ? (
        <MessageList
          messages={shown}
          readerId={user.id}
          followLatest={view === 'latest'}
          hasMore={room.hasMore}
          onNearTop={room.loadOlder}
          onVote={room.castVote}
        />
      ) : (
        <p className="message-list muted">
          {room.ended ? 'This room cannot be shown.' : 'Loading messages…'}
        </p>
      )}
      <Composer onSend={room.sendMessage} disabled={!room.live || room.ended} />
    </section>
  );
}
