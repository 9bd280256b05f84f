import type { MessageView } from '../../contract/models.js';
import type { VoteValue } from '../../contract/schemas.js';

export type Vote = Exclude<VoteValue, 'none'>;

/** Clicking your current vote takes it back; clicking the other one switches. */
export function nextVote(current: Vote | null, clicked: Vote): VoteValue {
  return current === clicked ? 'none' : clicked;
}

/** The counts a message will have once `vote` replaces the reader's current vote. */
export function withVote(
  message: MessageView,
  vote: VoteValue,
): Pick<MessageView, 'up' | 'down' | 'myVote'> {
  const before = message.myVote;
  const after = vote === 'none' ? null : vote;
  return {
    up: message.up - Number(before === 'up') + Number(after === 'up'),
    down: message.down - Number(before === 'down') + Number(after === 'down'),
    myVote: after,
  };
}
