import type { TRPCWebSocketClient } from '@trpc/client';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useRoom } from '../../client/react.js';
import type { RoomStatus } from '../../client/roomFollower.js';
import type { PublicUser } from '../../contract/models.js';
import { trpc } from '../api/trpc.js';
import { useConnectionState } from '../api/useConnectionState.js';
import { usePageVisible } from '../api/usePageVisible.js';
import { ConnectionBadge } from '../components/ConnectionBadge.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Composer } from '../room/Composer.js';
import { MessageList } from '../room/MessageList.js';
import type { MessageHandlers, Viewer } from '../room/messageActions.js';
import { type MessageOrder, topMessages } from '../room/messageOrder.js';
import { OnlinePanel } from '../room/OnlinePanel.js';
import { PinnedStrip } from '../room/PinnedStrip.js';
import { TypingIndicator } from '../room/TypingIndicator.js';
import { useOnlinePanel } from '../room/useOnlinePanel.js';
import { nextVote } from '../room/votes.js';
import { hrefFor, navigate } from '../router.js';

export function RoomScreen({
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
  const details = trpc.rooms.get.useQuery({ id: roomId }, { staleTime: 60_000 }).data;
  const name = details?.name ?? roomId;
  const owner = details?.owner ?? null;
  const [view, setView] = useState<MessageOrder>('latest');
  const [hideAnswered, setHideAnswered] = useState(false);
  const panel = useOnlinePanel();
  const shown = useMemo(
    () => (view === 'top' ? topMessages(room.messages, { hideAnswered }) : room.messages),
    [view, room.messages, hideAnswered],
  );
  const viewer = useMemo<Viewer>(
    () => ({ reader: user, isOwner: owner?.id === user.id }),
    [user, owner?.id],
  );
  const { vote, edit, remove, pin, markAnswered, retry, discard } = room;
  const handlers = useMemo<MessageHandlers>(
    () => ({
      vote: (message, clicked) => void vote(message.id, nextVote(message.myVote, clicked)),
      edit: (message, body) => edit(message.id, body),
      remove: (message) => remove(message.id),
      pin: (message, pinned) => pin(message.id, pinned),
      markAnswered: (message, answered) => markAnswered(message.id, answered),
      retry,
      discard,
    }),
    [vote, edit, remove, pin, markAnswered, retry, discard],
  );
  const isShown = useCallback((id: string) => shown.some((m) => m.id === id), [shown]);
  // The room is read up to what arrives while its end is in front of the reader.
  const visible = usePageVisible();
  const [atEnd, setAtEnd] = useState(false);
  const { markRead, messages, send } = room;
  useEffect(() => {
    if (atEnd && visible && messages.length > 0) markRead();
  }, [markRead, atEnd, visible, messages]);
  // A message is listed as pending at once (sending, or failed with Retry), so the composer
  // clears without waiting for the server.
  const queue = useCallback(
    async (body: string) => {
      void send(body);
      return true;
    },
    [send],
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
        <div className="room-heading">
          <h1 id="room-title"># {name}</h1>
          {owner ? (
            <p className="room-owner muted">
              Looked after by <strong>{owner.id === user.id ? 'you' : owner.username}</strong>
            </p>
          ) : null}
        </div>
        <button
          ref={panel.toggle}
          type="button"
          className="online online-active online-toggle"
          data-testid="online-count"
          aria-expanded={panel.open}
          aria-controls={panel.panelId}
          title="Who is online"
          onClick={panel.flip}
        >
          {room.online} online
        </button>
        <ConnectionBadge state={connection} />
      </div>
      <div className="chat-toolbar">
        <fieldset className="view-switch">
          <legend className="visually-hidden">Order</legend>
          <button type="button" aria-pressed={view === 'latest'} onClick={() => setView('latest')}>
            Latest
          </button>
          <button type="button" aria-pressed={view === 'top'} onClick={() => setView('top')}>
            Top
          </button>
        </fieldset>
        {view === 'top' ? (
          <label className="hide-answered">
            <input
              type="checkbox"
              checked={hideAnswered}
              onChange={(event) => setHideAnswered(event.target.checked)}
            />
            Hide answered
          </label>
        ) : null}
      </div>
      <ErrorBanner message={room.error} onDismiss={room.dismissError} />
      <FeedNotice status={room.status} loaded={room.loaded} />
      <div className={panel.open ? 'chat-body chat-body-with-panel' : 'chat-body'}>
        <div className="chat-column">
          <PinnedStrip pinned={room.pinned} isShown={isShown} onShow={showMessage} />
          {room.loaded ? (
            <MessageList
              messages={shown}
              viewer={viewer}
              handlers={handlers}
              followLatest={view === 'latest'}
              hasMore={room.hasMore}
              onNearTop={room.loadOlder}
              onAtEndChange={setAtEnd}
              pending={room.pending}
            />
          ) : (
            <p className="message-list muted">
              {room.status.state === 'ended'
                ? `This room cannot be shown: ${room.status.reason}`
                : 'Loading messages…'}
            </p>
          )}
          <TypingIndicator users={room.typing} />
        </div>
        {panel.open ? (
          <OnlinePanel
            id={panel.panelId}
            online={room.online}
            users={room.onlineUsers}
            readerId={user.id}
            ownerId={owner?.id ?? null}
            onClose={panel.close}
          />
        ) : null}
      </div>
      <Composer
        onSend={queue}
        onTyping={room.sendTyping}
        disabled={!room.loaded || room.status.state === 'ended'}
      />
    </section>
  );
}

/** Brings a message of the list into view and focus (from its pin). */
function showMessage(messageId: string) {
  const element = document.querySelector<HTMLElement>(
    `[role="log"] [data-message-id="${messageId}"]`,
  );
  element?.scrollIntoView({ block: 'center' });
  element?.focus({ preventScroll: true });
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
