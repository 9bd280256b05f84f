import { memo, useEffect, useRef, useState } from 'react';
import type { MessageView } from '../../contract/models.js';
import { MenuButton, type MenuItem } from '../components/MenuButton.js';
import { RelativeTime } from '../time/RelativeTime.js';
import { ConfirmRemove } from './ConfirmRemove.js';
import { EditMessageForm } from './EditMessageForm.js';
import {
  actionsFor,
  type MessageAction,
  type MessageHandlers,
  type Viewer,
} from './messageActions.js';
import { VoteButtons } from './VoteButtons.js';

type Mode = 'view' | 'edit' | 'confirmRemove';

const LABELS: Record<MessageAction, string> = {
  edit: 'Edit',
  pin: 'Pin to the top',
  unpin: 'Unpin',
  markAnswered: 'Mark answered',
  unmarkAnswered: 'Unmark answered',
  remove: 'Remove…',
};

export const MessageItem = memo(function MessageItem({
  message,
  viewer,
  handlers,
}: {
  message: MessageView;
  viewer: Viewer;
  handlers: MessageHandlers;
}) {
  const [mode, setMode] = useState<Mode>('view');
  const article = useRef<HTMLElement>(null);
  const menu = useRef<HTMLButtonElement>(null);
  /** Where focus goes once an edit or a confirmation is over. */
  const refocus = useRef<'menu' | 'message' | null>(null);
  const own = message.author.id === viewer.reader.id;
  const actions = actionsFor(message, viewer);

  useEffect(() => {
    if (mode !== 'view' || !refocus.current) return;
    (refocus.current === 'menu' && menu.current ? menu.current : article.current)?.focus();
    refocus.current = null;
  });

  const finish = (focus: 'menu' | 'message') => {
    refocus.current = focus;
    setMode('view');
  };
  const run: Record<MessageAction, () => void> = {
    edit: () => setMode('edit'),
    remove: () => setMode('confirmRemove'),
    pin: () => void handlers.pin(message, true),
    unpin: () => void handlers.pin(message, false),
    markAnswered: () => void handlers.markAnswered(message, true),
    unmarkAnswered: () => void handlers.markAnswered(message, false),
  };
  const items: MenuItem[] = actions.map((action) => ({
    label: LABELS[action],
    onSelect: run[action],
    danger: action === 'remove',
  }));

  const classes = ['message', own ? 'message-own' : '', message.removed ? 'message-removed' : '']
    .filter(Boolean)
    .join(' ');

  return (
    <article
      ref={article}
      className={classes}
      data-testid="message"
      data-message-id={message.id}
      data-own={own ? 'true' : 'false'}
      aria-label={`Message from ${message.author.username}`}
      tabIndex={-1}
    >
      <div className="message-meta">
        <span className="message-author">{message.author.username}</span>
        {own ? <span className="badge">You</span> : null}
        <RelativeTime time={message.createdAt} />
        {message.editedAt !== null && !message.removed ? (
          <span className="edited">
            · edited <RelativeTime time={message.editedAt} />
          </span>
        ) : null}
        {message.pinned ? <span className="badge badge-pinned">Pinned</span> : null}
        {message.answered ? <span className="badge badge-answered">✓ Answered</span> : null}
      </div>
      {mode === 'edit' ? (
        <EditMessageForm
          body={message.body}
          onCancel={() => finish('menu')}
          onSave={async (body) => {
            const saved = await handlers.edit(message, body);
            if (saved) finish('menu');
            return saved;
          }}
        />
      ) : message.removed ? (
        <p className="message-body message-tombstone">Message removed</p>
      ) : (
        <p className="message-body">{message.body}</p>
      )}
      {mode === 'confirmRemove' ? (
        <ConfirmRemove
          onCancel={() => finish('menu')}
          onConfirm={async () => {
            const removed = await handlers.remove(message);
            finish(removed ? 'message' : 'menu');
          }}
        />
      ) : null}
      <div className="message-side">
        <VoteButtons
          message={message}
          frozen={message.removed}
          onVote={(clicked) => handlers.vote(message, clicked)}
        />
        {items.length > 0 && mode === 'view' ? (
          <MenuButton
            buttonRef={menu}
            label={`Actions for ${message.author.username}'s message`}
            items={items}
          />
        ) : null}
      </div>
    </article>
  );
});
