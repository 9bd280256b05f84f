import { memo } from 'react';
import type { MessageView } from '../../contract/models.js';
import { RelativeTime } from '../time/RelativeTime.js';
import { VoteButtons } from './VoteButtons.js';
import type { Vote } from './votes.js';

export const MessageItem = memo(function MessageItem({
  message,
  own,
  onVote,
}: {
  message: MessageView;
  own: boolean;
  onVote: (message: MessageView, clicked: Vote) => void;
}) {
  return (
    <article
      className={own ? 'message message-own' : 'message'}
      data-testid="message"
      data-message-id={message.id}
      data-own={own ? 'true' : 'false'}
      aria-label={`Message from ${message.author.username}`}
    >
      <div className="message-meta">
        <span className="message-author">{message.author.username}</span>
        {own ? <span className="badge">You</span> : null}
        <RelativeTime time={message.createdAt} />
      </div>
      <p className="message-body">{message.body}</p>
      <VoteButtons message={message} onVote={(clicked) => onVote(message, clicked)} />
    </article>
  );
});
