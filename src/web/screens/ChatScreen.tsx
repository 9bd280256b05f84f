import type { TRPCWebSocketClient } from '@trpc/client';
import { useMemo, useState } from 'react';
import { useRoom } from '../../client/react.js';
import type { RoomStatus } from '../../client/roomFollower.js';
import type { MessageView, PublicUser } from '../../contract/models.js';
import { trpc } from '../api/trpc.js';
import { useConnectionState } from '../api/useConnectionState.js';
import { Composer } from '../chat/Composer.js';
import { MessageList } from '../chat/MessageList.js';
import { type MessageOrder, topMessages } from '../chat/messageOrder.js';
import { nextVote, type Vote } from '../chat/votes.js';
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
  const room = useRoom(trpc.useUtils().client, roomId, user.id);
  const connection = useConnectionState(socket);
  const name = trpc.rooms.get.useQuery({ id: roomId }, { staleTime: 60_000 }).data?.name ?? roomId;
  const [view, setView] = useState<MessageOrder>('latest');
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
      <FeedNotice status={room.status} loaded={room.loaded} />
      {room.loaded ? (
        <MessageList
          messages={shown}
          readerId={user.id}
          followLatest={view === 'latest'}
          hasMore={room.hasMore}
          onNearTop={room.loadOlder}
          onVote={(message: MessageView, clicked: Vote) =>
            room.vote(message.id, nextVote(message.myVote, clicked))
          }
        />
      ) : (
        <p className="message-list muted">
          {room.status.state === 'ended'
            ? `This room cannot be shown: ${room.status.reason}`
            : 'Loading messages…'}
        </p>
      )}
      <Composer onSend={room.send} disabled={!room.loaded || room.status.state === 'ended'} />
    </section>
  );
}

/** What the room's live feed is doing when it is not simply live, in words. */
function FeedNotice({ status, loaded }: { status: RoomStatus; loaded: boolean }) {
  const text =
    status.state === 'reconnecting'
      ? `Reconnecting to this room… ${status.reason}`
      : // Before anything was shown, the message area itself says why the room cannot be.
        status.state === 'ended' && loaded
        ? `Live updates for this room ended: ${status.reason}`
        : null;
  if (!text) return null;
  return (
    <p className="notice" role="status" data-testid="feed-status">
      {text}
    </p>
  );
}
