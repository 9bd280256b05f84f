import type { VoteValue } from '../../contract/schemas.js';

export type Vote = Exclude<VoteValue, 'none'>;

/** Clicking your current vote takes it back; clicking the other one switches. */
export function nextVote(current: Vote | null, clicked: Vote): VoteValue {
  return current === clicked ? 'none' : clicked;
}
