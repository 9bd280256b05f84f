import type { MessageView } from '../../contract/models.js';
import type { Vote } from './votes.js';

const BUTTONS: { vote: Vote; label: string; icon: string }[] = [
  { vote: 'up', label: 'Upvote', icon: '▲' },
  { vote: 'down', label: 'Downvote', icon: '▼' },
];

export function VoteButtons({
  message,
  onVote,
}: {
  message: Pick<MessageView, 'up' | 'down' | 'myVote'>;
  onVote: (clicked: Vote) => void;
}) {
  return (
    <div className="votes">
      {BUTTONS.map(({ vote, label, icon }) => {
        const mine = message.myVote === vote;
        return (
          <button
            key={vote}
            type="button"
            className={`vote vote-${vote}`}
            aria-label={label}
            aria-pressed={mine}
            title={mine ? `Take back your ${label.toLowerCase()}` : label}
            onClick={() => onVote(vote)}
          >
            <span aria-hidden="true">{icon}</span>
            <span data-testid={`${vote}-count`}>{message[vote]}</span>
          </button>
        );
      })}
    </div>
  );
}
