import type { MessageView } from '../../contract/models.js';
import type { Vote } from './votes.js';

export function VoteButtons({
  message,
  onVote,
}: {
  message: Pick<MessageView, 'up' | 'down' | 'myVote'>;
  onVote: (clicked: Vote) => void;
}) {
  return (
    <div className="votes">
      <button
        type="button"
        className="vote vote-up"
        aria-label="Upvote"
        aria-pressed={message.myVote === 'up'}
        title={message.myVote === 'up' ? 'Take back your upvote' : 'Upvote'}
        onClick={() => onVote('up')}
      >
        <span aria-hidden="true">▲</span>
        <span data-testid="up-count">{message.up}</span>
      </button>
      <button
        type="button"
        className="vote vote-down"
        aria-label="Downvote"
        aria-pressed={message.myVote === 'down'}
        title={message.myVote === 'down' ? 'Take back your downvote' : 'Downvote'}
        onClick={() => onVote('down')}
      >
        <span aria-hidden="true">▼</span>
        <span data-testid="down-count">{message.down}</span>
      </button>
    </div>
  );
}
