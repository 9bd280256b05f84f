import type { MessageView } from '../../contract/models.js';
import type { Vote } from './votes.js';

const BUTTONS: { vote: Vote; label: string; icon: string }[] = [
  { vote: 'up', label: 'Upvote', icon: '▲' },
  { vote: 'down', label: 'Downvote', icon: '▼' },
];

/** ▲/▼ with their counts; `frozen` (a removed message) keeps the counts but takes no votes. */
export function VoteButtons({
  message,
  onVote,
  frozen = false,
}: {
  message: Pick<MessageView, 'up' | 'down' | 'myVote'>;
  onVote: (clicked: Vote) => void;
  frozen?: boolean;
}) {
  return (
    <div className="votes">
      {BUTTONS.map(({ vote, label, icon }) => {
        const mine = message.myVote === vote;
        const title = frozen
          ? 'Votes are frozen on a removed message'
          : mine
            ? `Take back your ${label.toLowerCase()}`
            : label;
        return (
          <button
            key={vote}
            type="button"
            className={`vote vote-${vote}`}
            aria-label={label}
            aria-pressed={mine}
            title={title}
            disabled={frozen}
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
