import { memo } from 'react';
import type { MessageView } from '../../contract/models.js';
import { VoteButtons } from './VoteButtons.js';
import type { Vote } from './votes.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const MessageItem = memo(function MessageItem({
  message,
  own,
  onVote,
}: {
  message: MessageView;
  own: boolean;
  onVote: (message: MessageView, clicked: Vote) => void;
}) {
  const created = new Date(message.createdAt);
  return (
    <article
      className={own ? 'message message-own' : 'message'}
      data-testid="message"
      data-own={own ? 'true' : 'false'}
      aria-label={`Message from ${message.author.username}`}
    >
      <div className="message-meta">
        <span className="message-author">{message.author.username}</span>
        {own ? <span className="badge">You</span> : null}
        <time dateTime={created.toISOString()} title={fullFormat.format(created)}>
          {timeFormat.format(created)}
        </time>
      </div>
      <p className="message-body">{message.body}</p>
      <VoteButtons message={message} onVote={(clicked) => onVote(message, clicked)} />
    </article>
  );
});
